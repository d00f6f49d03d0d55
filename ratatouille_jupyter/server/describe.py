"""What the REST API says about one table: detail, snapshot pages and refs, as JSON-ready dicts.

Pure functions of a loaded pyiceberg table: no I/O beyond what the table's metadata already holds, so a
table with 10,000 snapshots is described without reading a manifest.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ratatouille.errors import InvalidInput, NotFound
from ratatouille.history import snapshot_rows
from ratatouille.reading import MAIN
from ratatouille.tables.partitioning import describe_spec

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

#: Most refs a detail or refs answer lists (a table rarely has more; the rest is counted, not listed).
MAX_REFS = 1000


def iso_ms(timestamp_ms: int | None) -> str | None:
    """An epoch-milliseconds time as an ISO 8601 UTC string."""
    if timestamp_ms is None:
        return None
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).isoformat()


def sid(snapshot_id: int | None) -> str | None:
    """A snapshot id as JSON carries it: a decimal string (ids are 64-bit, JavaScript numbers are not)."""
    return None if snapshot_id is None else str(snapshot_id)


def _int_or_none(value: Any) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


def ref_list(table: Table) -> list[dict[str, Any]]:
    """Branches and tags of a table: main first, then branches, then tags, each sorted by name."""
    out: list[dict[str, Any]] = []
    for name, ref in table.metadata.refs.items():
        snap = table.metadata.snapshot_by_id(ref.snapshot_id)
        out.append(
            {
                "name": name,
                "type": ref.snapshot_ref_type.value,
                "snapshot_id": sid(ref.snapshot_id),
                "timestamp": iso_ms(snap.timestamp_ms) if snap else None,
            }
        )
    out.sort(key=lambda r: (r["name"] != MAIN, r["type"] != "branch", r["name"]))
    return out[:MAX_REFS]


def snapshot_at(table: Table, ref: str | None, snapshot_id: int | None) -> Snapshot | None:
    """The snapshot a ref or snapshot id names (main's head when both are None; None for an empty table).

    Raises:
        NotFound: The ref or snapshot does not exist on the table.
    """
    meta = table.metadata
    if snapshot_id is not None:
        snap = meta.snapshot_by_id(snapshot_id)
        if snap is None:
            raise NotFound(f"table has no snapshot {snapshot_id}")
        return snap
    name = ref or MAIN
    found = meta.refs.get(name)
    if found is None:
        if name == MAIN:
            return None
        known = ", ".join(sorted(meta.refs)) or "none"
        raise NotFound(f"table has no branch or tag {name!r} (it has: {known})")
    return meta.snapshot_by_id(found.snapshot_id)


def table_detail(table: Table, ref: str | None = None, snapshot_id: int | None = None) -> dict[str, Any]:
    """Schema, counts, partitioning, sort order, properties and refs of a table at a ref or snapshot."""
    meta = table.metadata
    snap = snapshot_at(table, ref, snapshot_id)
    schema = table.schema()
    if snap is not None and snap.schema_id is not None:
        schema = next((s for s in meta.schemas if s.schema_id == snap.schema_id), schema)
    summary = snap.summary.additional_properties if snap and snap.summary else {}
    fields = [
        {
            "id": f.field_id,
            "name": f.name,
            "type": str(f.field_type),
            "nullable": not f.required,
            "doc": f.doc,
        }
        for f in schema.fields
    ]
    spec = table.spec()
    names = {f.field_id: f.name for f in table.schema().fields}
    partition_fields = [
        {"name": p.name, "source": names.get(p.source_id, str(p.source_id)), "transform": str(p.transform)}
        for p in spec.fields
    ]
    sort_order = [
        {
            "source": names.get(s.source_id, str(s.source_id)),
            "transform": str(s.transform),
            "direction": s.direction.value,
            "null_order": s.null_order.value,
        }
        for s in table.sort_order().fields
    ]
    namespace, name = table.name()[-2], table.name()[-1]
    return {
        "namespace": namespace,
        "name": name,
        "identifier": f"{namespace}.{name}",
        "location": table.location(),
        "format_version": meta.format_version,
        "uuid": str(meta.table_uuid),
        "ref": None if snapshot_id is not None else (ref or MAIN),
        "snapshot_id": sid(snap.snapshot_id) if snap else None,
        "snapshot_timestamp": iso_ms(snap.timestamp_ms) if snap else None,
        "last_updated": iso_ms(meta.last_updated_ms),
        "schema": {"schema_id": schema.schema_id, "fields": fields},
        "row_count": _int_or_none(summary.get("total-records")) if snap else 0,
        "size_bytes": _int_or_none(summary.get("total-files-size")) if snap else 0,
        "file_count": _int_or_none(summary.get("total-data-files")) if snap else 0,
        "partitioning": describe_spec(spec, table.schema()),
        "partition_fields": partition_fields,
        "sort_order": sort_order,
        "properties": dict(sorted(meta.properties.items())),
        "snapshot_count": len(meta.snapshots),
        "refs": ref_list(table),
    }


def _ancestors(table: Table, head: int | None) -> set[int]:
    seen: set[int] = set()
    current = head
    while current is not None and current not in seen:
        seen.add(current)
        snap = table.metadata.snapshot_by_id(current)
        current = snap.parent_snapshot_id if snap else None
    return seen


def snapshot_page(
    table: Table, ref: str | None, offset: int, limit: int, rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Snapshots newest first, with provenance, one page of them.

    Args:
        table: The table.
        ref: Only the history of this branch or tag (its head and ancestors); every snapshot when None.
        offset: Snapshots to skip.
        limit: Most snapshots to return.
        rows: ``history.snapshot_rows(table)`` when already computed.

    Raises:
        NotFound: ``ref`` does not exist on the table.
    """
    rows = snapshot_rows(table) if rows is None else rows
    if ref is not None:
        found = table.metadata.refs.get(ref)
        if found is None and not (ref == MAIN and not table.metadata.snapshots):
            known = ", ".join(sorted(table.metadata.refs)) or "none"
            raise NotFound(f"table has no branch or tag {ref!r} (it has: {known})")
        keep = _ancestors(table, found.snapshot_id if found else None)
        rows = [r for r in rows if r["snapshot_id"] in keep]
    total = len(rows)
    newest_first = rows[::-1]  # a copy: ``rows`` may be a cached list
    items = [_json_row(r) for r in newest_first[offset : offset + limit]]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["snapshot_id"] = sid(out["snapshot_id"])
    out["parent_id"] = sid(out.get("parent_id"))
    stamp = out.get("timestamp")
    if isinstance(stamp, dt.datetime):
        out["timestamp"] = stamp.isoformat()
    out["refs"] = [r for r in str(out.get("refs") or "").split(",") if r]
    return out


def page_bounds(offset: int, limit: int, max_limit: int) -> tuple[int, int]:
    """Check pagination arguments.

    Raises:
        InvalidInput: A negative offset, or a limit outside 1..max_limit.
    """
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset}")
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}, got {limit}")
    return offset, limit
