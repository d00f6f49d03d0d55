"""Committing maintenance: plan on the current head, commit once, plan again when someone else won.

Every maintenance commit is guarded by the head it was planned on (pyiceberg's ref requirement), so a
concurrent writer makes it fail rather than lose rows. The loser plans again on the new head.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import Conflict
from ..writing import lost_race

__all__ = ["MAX_ATTEMPTS", "lost_race", "retrying"]

T = TypeVar("T")
MAX_ATTEMPTS = 10


def retrying(attempt: Callable[[], T], what: str, attempts: int = MAX_ATTEMPTS) -> T:
    """Run ``attempt`` until it commits, planning again after each lost race.

    Raises:
        Conflict: Other writers kept committing first; nothing was changed.
    """
    last: BaseException | None = None
    for n in range(attempts):
        try:
            return attempt()
        except Exception as e:
            if not lost_race(e):
                raise
            last = e
            time.sleep(min(2.0, 0.05 * 2**n) * (0.5 + random.random()))
    raise Conflict(
        f"could not {what}: other writers kept committing first ({attempts} attempts); nothing was changed, "
        "try again"
    ) from last
