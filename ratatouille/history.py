"""Snapshot history of a table, with the provenance ratatouille stamps on each commit."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .tables.commit import PROPERTY_PREFIX

if TYPE_CHECKING:
    from pyiceberg.table import Table

_SUMMARY_COUNTS = {
    "added-records": "rows_added",
    "deleted-records": "rows_deleted",
    "total-records": "total_rows",
    "added-data-files": "files_added",
}


def snapshot_rows(table: Table) -> list[dict[str, Any]]:
    """One dict per snapshot, oldest first.

    Keys: ``snapshot_id``, ``timestamp`` (UTC), ``operation`` (ratatouille's when it wrote the snapshot,
    else Iceberg's), ``parent_id``, ``iceberg_operation``, ``refs`` (branches and tags pointing at it),
    ``rows_added``, ``rows_deleted``, ``total_rows``, ``files_added``, and the provenance properties
    (``version``, ``notebook``, ``cell``, ``pipeline``, ``run_id``...) without their prefix.
    """
    refs_at: dict[int, list[str]] = {}
    for name, ref in table.metadata.refs.items():
        refs_at.setdefault(ref.snapshot_id, []).append(name)
    rows: list[dict[str, Any]] = []
    for snap in sorted(table.metadata.snapshots, key=lambda s: (s.timestamp_ms, s.sequence_number or 0)):
        summary = snap.summary.additional_properties if snap.summary else {}
        iceberg_op = snap.summary.operation.value if snap.summary else ""
        row: dict[str, Any] = {
            "snapshot_id": snap.snapshot_id,
            "timestamp": dt.datetime.fromtimestamp(snap.timestamp_ms / 1000, dt.UTC),
            "operation": summary.get(f"{PROPERTY_PREFIX}operation", iceberg_op),
            "parent_id": snap.parent_snapshot_id,
            "iceberg_operation": iceberg_op,
            "refs": ",".join(sorted(refs_at.get(snap.snapshot_id, []))),
        }
        for key, name in _SUMMARY_COUNTS.items():
            value = summary.get(key)
            row[name] = int(value) if value is not None and str(value).isdigit() else None
        for key, value in summary.items():
            if key.startswith(PROPERTY_PREFIX) and key != f"{PROPERTY_PREFIX}operation":
                row[key[len(PROPERTY_PREFIX) :]] = value
        rows.append(row)
    return rows
