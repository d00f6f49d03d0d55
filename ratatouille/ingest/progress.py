"""Progress bars: shown after one second of work, in interactive sessions only."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

#: Seconds of work before a bar appears: quick ingests print nothing.
DELAY_S = 1.0


def interactive() -> bool:
    """True in a notebook kernel or a terminal; False in pipelines, CI and redirected runs."""
    if "ipykernel" in sys.modules:
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
                return True
        except ImportError:
            pass
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class Progress:
    """A progress bar over bytes or rows, or nothing at all when disabled.

    Args:
        description: What is being done (shown left of the bar).
        total: The total, when known.
        unit: ``"B"`` for bytes (scaled to KB, MB...) or ``"rows"``.
        enabled: Show it; None decides with :func:`interactive`.
    """

    def __init__(self, description: str, total: int | None, unit: str = "B", enabled: bool | None = None):
        self._bar: Any = None
        self.done = 0
        self.rows = 0
        if enabled is None:
            enabled = interactive()
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total, desc=description, unit=unit, unit_scale=unit == "B", delay=DELAY_S, leave=False
            )

    def update_to(self, done: int) -> None:
        """Set the amount done so far."""
        if done > self.done:
            if self._bar is not None:
                self._bar.update(done - self.done)
            self.done = done

    def advance(self, amount: int) -> None:
        """Add to the amount done (rows, for readers that count rows)."""
        self.note_rows(amount)

    def note_rows(self, rows: int) -> None:
        """Count rows read (shown beside a bar that counts bytes)."""
        self.rows += rows
        if self._bar is not None:
            self._bar.set_postfix(rows=self.rows, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
