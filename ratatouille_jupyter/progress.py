"""Long queries in a notebook: a progress line while they run, and interrupt = cancel.

The work runs in a worker thread inside the engine's tracking block; the kernel's main thread waits,
redraws the progress line, and on an interrupt (the kernel's stop button, Ctrl-C) cancels the running
query and waits for the worker to stop, so the kernel stays usable and the engine is free.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from IPython.core.error import UsageError

from ratatouille.engine.client import QueryTracker
from ratatouille.errors import EngineError

from .display import seconds, size

T = TypeVar("T")
_POLL_S = 0.1
_REDRAW_S = 0.25
_RECANCEL_S = 0.5


@dataclass
class Progress:
    """The latest progress reported by the engine."""

    started: float
    read_rows: int = 0
    total_rows: int = 0
    read_bytes: int = 0

    def update(self, read_rows: int, total_rows: int, read_bytes: int) -> None:
        """Record a report (called from the worker thread)."""
        self.read_rows, self.total_rows, self.read_bytes = read_rows, total_rows, read_bytes

    def text(self) -> str:
        """``⏳ 3.2 s · 1,234,567 rows read (45%) · 12.0 MB — interrupt the kernel to cancel``."""
        parts = [f"⏳ {seconds(time.perf_counter() - self.started)}"]
        if self.read_rows:
            share = f" ({min(100, 100 * self.read_rows // self.total_rows)}%)" if self.total_rows else ""
            parts.append(f"{self.read_rows:,} rows read{share}")
            parts.append(size(self.read_bytes))
        return " · ".join(parts) + " — interrupt the kernel to cancel"


class ProgressView:
    """What the progress display shows (empty once cleared)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def _repr_html_(self) -> str:
        if self.progress is None:
            return ""
        bar = ""
        if self.progress.total_rows:
            bar = f"<progress value='{self.progress.read_rows}' max='{self.progress.total_rows}'></progress> "
        text = html.escape(self.progress.text())
        return f"<div class='rat-progress' style='font-size:12px'>{bar}{text}</div>"

    def __repr__(self) -> str:
        return "" if self.progress is None else self.progress.text()


class _Outcome(Generic[T]):
    def __init__(self) -> None:
        self.value: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


def run_tracked(
    engine: Any, work: Callable[[], T], *, show_progress: bool, delay_s: float
) -> tuple[T, QueryTracker, bool]:
    """Run ``work`` with the engine tracking its queries; show progress after ``delay_s``.

    Returns:
        The result, the tracker (rows and bytes read), and whether an interrupt came too late to stop
        the work (it had finished, or was past its last query).

    Raises:
        UsageError: The work was interrupted and stopped (IPython shows exactly ``UsageError`` as one
            line, not a subclass, hence no class of its own).
    """
    started = time.perf_counter()
    progress = Progress(started)
    tracker = QueryTracker(progress=progress.update)
    outcome: _Outcome[T] = _Outcome()

    def worker() -> None:
        try:
            with engine.tracking(tracker):
                outcome.value = work()
        except BaseException as e:  # handed to the main thread, which raises it
            outcome.error = e
        finally:
            outcome.done.set()

    thread = threading.Thread(target=worker, name="rat-query", daemon=True)
    handle: Any = None
    interrupted = False
    drawn = 0.0
    thread.start()
    try:
        while not outcome.done.wait(_POLL_S):
            now = time.perf_counter()
            if show_progress and now - started >= delay_s and now - drawn >= _REDRAW_S:
                handle, drawn = _show(handle, ProgressView(progress)), now
    except KeyboardInterrupt:
        interrupted = True
        _cancel_and_wait(tracker, outcome)
    finally:
        if handle is not None:
            handle.update(ProgressView(None))
    if interrupted and isinstance(outcome.error, EngineError):
        elapsed = seconds(time.perf_counter() - started)
        read = f", {tracker.read_rows:,} rows read" if tracker.read_rows else ""
        raise UsageError(f"cancelled after {elapsed}{read}: nothing was written; the kernel is ready")
    if outcome.error is not None:
        raise outcome.error
    return outcome.value, tracker, interrupted  # type: ignore[return-value]


def _cancel_and_wait(tracker: QueryTracker, outcome: _Outcome[Any]) -> None:
    """Cancel until the worker stops; further interrupts while waiting only cancel again."""
    while True:
        try:
            tracker.cancel()
            if outcome.done.wait(_RECANCEL_S):
                return
        except KeyboardInterrupt:
            continue


def _show(handle: Any, view: ProgressView) -> Any:
    from IPython.display import display

    if handle is None:
        return display(view, display_id=True)
    handle.update(view)
    return handle
