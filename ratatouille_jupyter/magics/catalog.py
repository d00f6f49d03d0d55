"""``%rat_tables [namespace]`` and ``%rat_history namespace.table``: what the lakehouse holds."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from IPython.core.error import UsageError

from .errors import user_errors
from .options import tokenize

if TYPE_CHECKING:
    from .core import RatMagics

TABLE_COLUMNS = ["namespace", "table", "rows", "snapshots", "updated"]
# Columns shown first by %rat_history; the rest (provenance, counts) follow in rat.ice_history's order.
_HISTORY_FIRST = [
    "snapshot_id", "timestamp", "operation", "refs", "rows_added", "total_rows", "notebook", "cell",
]  # fmt: skip


def run_tables(magics: RatMagics, line: str) -> pd.DataFrame:
    """One row per table (of one namespace, or all): rows and update time of its head on the branch."""
    args = tokenize(line, "%rat_tables")
    if len(args) > 1:
        raise UsageError("usage: %rat_tables [namespace]")
    rat = magics.rat
    with user_errors():
        tables = {args[0]: rat.ice_tables(args[0])} if args else rat.ice_all()
        rows = [_describe(rat.session, ns, name) for ns, names in tables.items() for name in names]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def run_history(magics: RatMagics, line: str) -> pd.DataFrame:
    """The snapshots of a table, newest first, with the notebook and cell that wrote each."""
    args = tokenize(line, "%rat_history")
    if len(args) != 1:
        raise UsageError("usage: %rat_history namespace.table")
    with user_errors():
        history = magics.rat.ice_history(args[0])
    first = [c for c in _HISTORY_FIRST if c in history.columns]
    ordered = history[first + [c for c in history.columns if c not in first]]
    newest_first: pd.DataFrame = ordered.iloc[::-1].reset_index(drop=True)
    return newest_first


def _describe(session: Any, namespace: str, name: str) -> dict[str, Any]:
    from ratatouille.catalog import load_table
    from ratatouille.reading import MAIN, head_snapshot_id

    table = load_table(session.catalog, f"{namespace}.{name}", session.branch)
    head = head_snapshot_id(table, session.branch) or head_snapshot_id(table, MAIN)
    snapshot = None if head is None else table.metadata.snapshot_by_id(head)
    summary = snapshot.summary.additional_properties if snapshot is not None and snapshot.summary else {}
    total = summary.get("total-records")
    return {
        "namespace": namespace,
        "table": name,
        "rows": int(total) if total is not None and str(total).isdigit() else None,
        "snapshots": len(table.metadata.snapshots),
        "updated": None
        if snapshot is None
        else dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1e3, dt.UTC),
    }
