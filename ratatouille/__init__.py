"""ratatouille: a Jupyter-native lakehouse on Apache Iceberg and ClickHouse SQL.

``from ratatouille import rat`` gives the SDK; ``%load_ext ratatouille`` loads the notebook magics.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .sdk import Rat

rat = Rat()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext ratatouille``: delegates to :mod:`ratatouille_jupyter` (imported only then)."""
    from ratatouille_jupyter import load_ipython_extension as load

    load(ipython)


__all__ = ["Rat", "__version__", "load_ipython_extension", "rat"]
