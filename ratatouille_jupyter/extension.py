"""``%load_ext ratatouille``: what loading the extension does in a kernel."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Put ``rat`` in the user namespace (the magics register here as they land)."""
    from ratatouille import rat

    ipython.push({"rat": rat})
