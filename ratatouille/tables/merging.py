"""Merge (upsert by keys), file by file: only the data files holding a batch key are rewritten.

The batch is checked (keys present, no NULL keys, no duplicate keys). The target's files are narrowed
with statistics (:func:`~ratatouille.tables.rowlevel.key_filter`), the engine finds the rows whose key is
in the batch (:func:`~ratatouille.tables.rowlevel.rows_matching`), and each file holding one is rewritten
without those rows; the batch rows are added (columns the batch lacks keep the target's values for updated
rows, NULL for new ones). Untouched files and untouched rows stay exactly as they were. Counts are
measured, not estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidInput
from ..staging import staged
from .commit import conform, sort_for_write
from .rowlevel import in_condition, key_filter, plan_data_files, position_mask, read_data_file, rows_matching

if TYPE_CHECKING:
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata

    from ..engine import Engine


@dataclass
class RowChange:
    """What a row-level write changes: files removed, rows added, and the measured counts.

    Attributes:
        add: Rows to write as new files (None: none).
        delete: Data files the snapshot removes.
        inserted: Rows inserted (merge).
        updated: Rows updated (merge).
        deleted: Rows deleted (delete).
    """

    add: pa.Table | None
    delete: list[DataFile] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def check_batch(batch: pa.Table, keys: list[str], target: str) -> None:
    """Refuse a batch with missing key columns, NULL keys or duplicate keys.

    Raises:
        InvalidInput: Naming the key and an example.
    """
    if not keys:
        raise InvalidInput("merge needs merge_keys: the columns that identify a row (for example ['id'])")
    missing = [k for k in keys if k not in batch.column_names]
    if missing:
        raise InvalidInput(
            f"merge key(s) {', '.join(missing)} not in the data for {target} "
            f"(its columns: {', '.join(batch.column_names)})"
        )
    for k in keys:
        nulls = batch.column(k).null_count
        if nulls:
            raise InvalidInput(f"merge into {target} refused: key column {k!r} has {nulls} NULL value(s)")
    if batch.num_rows == 0:
        return
    counts = batch.select(keys).group_by(keys).aggregate([([], "count_all")])
    dups = counts.filter(pc.greater(counts.column("count_all"), 1))
    if dups.num_rows:
        example = {k: dups.column(k)[0].as_py() for k in keys}
        raise InvalidInput(
            f"merge into {target} refused: {dups.num_rows} key(s) appear more than once in the data, "
            f"for example {example}"
        )


def merge_change(
    engine: Engine,
    table: Table,
    metadata: TableMetadata,
    snapshot_id: int | None,
    batch: pa.Table,
    keys: list[str],
) -> RowChange:
    """Plan a merge of ``batch`` into the snapshot ``snapshot_id`` of ``table``.

    Args:
        engine: The engine (finds the rows a batch key matches).
        table: The target as committed.
        metadata: The write's metadata (its schema may add columns of the batch).
        snapshot_id: The snapshot merged into, or None for an empty table.
        batch: The incoming rows, aligned with the target (it may lack some target columns).
        keys: The merge keys.

    Returns:
        The files to remove and the rows to add (kept rows of rewritten files, then the batch).
    """
    committed = table.schema()
    known = set(committed.column_names)
    if snapshot_id is None or not batch.num_rows or not all(k in known for k in keys):
        # A key column the table does not have yet is NULL in every target row: nothing matches.
        return RowChange(add=_complete(batch, None, keys, metadata), inserted=batch.num_rows)
    candidates = plan_data_files(
        table, snapshot_id, key_filter(batch, keys, committed, table.metadata.schemas)
    )
    with staged(engine, batch.select(keys)) as stage:
        hits = rows_matching(engine, table, candidates, committed, in_condition(keys, stage), keys)
    affected = [f for f in candidates if f.file_path in hits]
    kept_parts, matched_parts = [], []
    for data_file in affected:
        rows = conform(read_data_file(table, metadata, data_file), metadata)
        mask = position_mask(rows.num_rows, hits[data_file.file_path])
        kept_parts.append(rows.filter(pc.invert(mask)))
        matched_parts.append(rows.filter(mask))
    matched = pa.concat_tables(matched_parts) if matched_parts else None
    updated = 0 if matched is None else matched.select(keys).group_by(keys).aggregate([]).num_rows
    new_rows = _complete(batch, matched, keys, metadata)
    # Kept rows and batch rows together, sorted by key: each new file covers a narrow key range, so the
    # next merge of recent keys finds few candidate files.
    content = sort_for_write(pa.concat_tables([*kept_parts, new_rows]), keys)
    return RowChange(
        add=content,
        delete=affected,
        inserted=batch.num_rows - updated,
        updated=updated,
    )


def _complete(
    batch: pa.Table, matched: pa.Table | None, keys: list[str], metadata: TableMetadata
) -> pa.Table:
    """The batch with every table column: absent ones from the matched target row, else NULL."""
    names = [f.name for f in metadata.schema().fields]
    missing = [c for c in names if c not in batch.column_names]
    if not missing:
        return conform(batch, metadata)
    columns = {c: batch.column(c) for c in batch.column_names}
    arrow = metadata.schema().as_arrow()
    if matched is None or matched.num_rows == 0:
        for c in missing:
            columns[c] = pa.nulls(batch.num_rows, arrow.field(c).type)
        return conform(pa.table(columns), metadata)
    # Row i of the batch takes its absent columns from the first target row with its key. Only key and
    # index columns go through the join (Arrow joins carry no nested payloads); values come by take().
    left = batch.select(keys).append_column("__b", pa.array(range(batch.num_rows), pa.int64()))
    right = matched.select(keys).append_column("__m", pa.array(range(matched.num_rows), pa.int64()))
    first = right.group_by(keys).aggregate([("__m", "min")])
    right = pa.table({**{k: first.column(k) for k in keys}, "__m": first.column("__m_min")})
    joined = left.join(right, keys, join_type="left outer").sort_by("__b")
    indices = joined.column("__m")
    for c in missing:
        columns[c] = matched.column(c).take(indices)
    return conform(pa.table(columns), metadata)
