"""``%rat_cache [clear]``: the snapshot cache of this notebook's engine (``rat.cache_info()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..display import CacheView, plural
from .errors import user_errors
from .options import tokenize

if TYPE_CHECKING:
    from .core import RatMagics

USAGE = "usage: %rat_cache [clear]"


def run_cache(magics: RatMagics, line: str) -> CacheView | None:
    """Show the cache (summary line and entries), or drop every entry (``clear``) and say how many."""
    args = tokenize(line, "%rat_cache")
    if args not in ([], ["clear"]):
        raise UsageError(USAGE)
    rat = magics.rat
    with user_errors():
        if not args:
            return CacheView(rat.cache_info())
        dropped = rat.cache_clear()
    print(f"snapshot cache cleared: {plural(dropped, 'snapshot')} dropped")
    return None
