"""ratatouille: a Jupyter-native lakehouse on Apache Iceberg and ClickHouse SQL.

``from ratatouille import rat`` gives the SDK; ``%load_ext ratatouille`` loads the notebook magics.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .sdk import Rat

# ``%reload_ext ratatouille`` re-runs this module: keep the connected ``rat`` (its lakehouse, branch and
# temp tables) rather than replacing it with a new, unconnected one.
rat: Rat = globals().get("rat") or Rat()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ratatouille``: delegates to :mod:`ratatouille_jupyter` (imported only then)."""
    from ratatouille_jupyter import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext ratatouille``: removes the hooks and completion the extension added."""
    from ratatouille_jupyter import unload_ipython_extension as unload

    unload(ipython)


__all__ = ["Rat", "__version__", "load_ipython_extension", "rat", "unload_ipython_extension"]
