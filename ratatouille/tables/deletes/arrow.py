"""Applying equality deletes in Arrow: compaction reads each data file and drops the rows they delete.

(pyiceberg's reader applies position deletes itself; see :func:`.planning.scan_tasks`.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table


def without_equality_deleted(
    table: Table, rows: pa.Table, deletes: Sequence[DataFile], read: dict[str, pa.Table] | None = None
) -> pa.Table:
    """The rows of one data file (read with the current schema) less those its equality deletes remove.

    ``read`` keeps each delete file's rows across the data files of one compaction: a delete file that
    applies to many data files is read once.
    """
    schema = table.schema()
    read = {} if read is None else read
    for d in deletes:
        if d.file_path not in read:
            names = [schema.find_column_name(i) or "" for i in d.equality_ids or ()]
            read[d.file_path] = read_equality_deletes(table, [d.file_path], names)
        rows = drop_equality_deleted(rows, read[d.file_path])
    return rows


def read_equality_deletes(table: Table, paths: Iterable[str], names: Sequence[str]) -> pa.Table:
    """The rows of equality delete files, the columns ``names`` (the table's current names)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for path in paths:
        with table.io.new_input(path).open() as stream:
            rows = pq.read_table(stream)
        by_id = _columns_by_field_id(rows)
        schema = table.schema()
        picked = {}
        for n in names:
            fid = schema.find_field(n).field_id
            picked[n] = rows.column(by_id[fid]) if fid in by_id else rows.column(n)
        parts.append(pa.table(picked))
    return pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})


def _columns_by_field_id(rows: pa.Table) -> dict[int, str]:
    out: dict[int, str] = {}
    for f in rows.schema:
        raw = (f.metadata or {}).get(b"PARQUET:field_id")
        if raw is not None and raw.decode().lstrip("-").isdigit():
            out[int(raw)] = f.name
    return out


def drop_equality_deleted(rows: pa.Table, deleted: pa.Table) -> pa.Table:
    """``rows`` without those whose values in ``deleted``'s columns are a row of ``deleted``.

    A NULL in a delete row matches a NULL.
    """
    import pyarrow.compute as pc

    names = deleted.column_names
    if deleted.num_rows == 0 or rows.num_rows == 0:
        return rows
    if len(names) == 1:
        values = deleted.column(0).combine_chunks().cast(rows.schema.field(names[0]).type)
        hit = pc.is_in(rows.column(names[0]), value_set=values, skip_nulls=False)
        return rows.filter(pc.invert(hit))
    gone = set(zip(*(deleted.column(n).to_pylist() for n in names), strict=True))
    keys = zip(*(rows.column(n).to_pylist() for n in names), strict=True)
    import pyarrow as pa

    return rows.filter(pa.array([k not in gone for k in keys], pa.bool_()))
