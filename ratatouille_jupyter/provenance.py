"""Which notebook and cell a write came from, stamped on the snapshots the magics commit.

The notebook path comes from, in order: the ``notebook`` option (``%config RatMagics.notebook``), the
``RAT_NOTEBOOK`` environment variable (set by pipeline runs), the path VS Code gives the kernel, and the
session path Jupyter Server gives it (``JPY_SESSION_NAME``). The cell is the notebook cell's id when the
front end sends one (JupyterLab), with the execution count. A pipeline run that already put a notebook
and cell in the session's context keeps them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


class CellTracker:
    """Remembers the cell being run (IPython's ``pre_run_cell`` event): its id and its ``In[n]`` number.

    Args:
        shell: The IPython shell.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.cell_id: str | None = None
        self.number: int | None = None

    def pre_run_cell(self, info: Any) -> None:
        """Record the id and number of the cell about to run."""
        self.cell_id = getattr(info, "cell_id", None)
        # IPython moves execution_count past the running cell either before (9.x) or after (8.x) this
        # event; the input history, which gets the cell just after it, tells the number either way.
        history = getattr(self.shell, "history_manager", None)
        self.number = len(history.input_hist_raw) if history is not None else None


def notebook_path(shell: Any, configured: str = "") -> str:
    """The notebook the kernel runs, or '' when it cannot be told."""
    if configured:
        return configured
    env = os.environ.get("RAT_NOTEBOOK", "")
    if env:
        return env
    user_ns = getattr(shell, "user_ns", {}) or {}
    for key in ("__vsc_ipynb_file__", "__session__"):
        value = user_ns.get(key)
        if isinstance(value, str) and value:
            return value
    return os.environ.get("JPY_SESSION_NAME", "")


def cell_label(shell: Any, cells: CellTracker) -> str:
    """``In[7] 3f2a...`` (execution count, then the cell id when known)."""
    count = cells.number if cells.number is not None else getattr(shell, "execution_count", None)
    label = f"In[{count}]" if count is not None else ""
    if cells.cell_id:
        label = f"{label} {cells.cell_id}".strip()
    return label


@contextlib.contextmanager
def stamped(session: Any, notebook: str, cell: str) -> Iterator[None]:
    """Put ``notebook`` and ``cell`` into the session's commit context for the block.

    Values already in the context win: a pipeline run stamps its own notebook and cell there.
    """
    previous = dict(session.context)
    for key, value in (("notebook", notebook), ("cell", cell)):
        if value and not session.context.get(key):
            session.context[key] = value
    try:
        yield
    finally:
        session.context.clear()
        session.context.update(previous)
