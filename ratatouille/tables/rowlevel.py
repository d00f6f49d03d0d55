"""Row-level changes at file granularity: find the data files a change touches, rewrite only those.

A merge or a delete first narrows the snapshot's data files with Iceberg statistics (partition values and
column min/max, through a row filter at planning), then asks the engine which of those candidates really
hold affected rows. Only those files are read (with pyiceberg's reader, so schema evolution applies by
field id) and rewritten without the affected rows; every other file stays as it is, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc

from ..reading import files_source
from ..sqltext import quote_identifier

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.manifest import DataFile
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata

    from ..engine import Engine

# Above this many batch keys, candidate files are narrowed by the keys' range alone: an IN list that
# large costs more to evaluate per file in Python than the engine's confirmation scan saves.
MAX_IN_KEYS = 5_000


def plan_data_files(
    table: Table, snapshot_id: int, row_filter: BooleanExpression | None = None
) -> list[DataFile]:
    """The data files of a snapshot that may hold rows matching ``row_filter`` (all files without one).

    Raises:
        InvalidInput: The snapshot has row-level delete files.
    """
    from .datafiles import matching_files

    return matching_files(table, snapshot_id, row_filter)


def key_filter(
    batch: pa.Table, keys: Sequence[str], schema: Schema, table_schemas: Sequence[Schema] = ()
) -> BooleanExpression:
    """An Iceberg row filter that every target row matching a batch key satisfies.

    Per key column: the batch's value range, and for small batches the values themselves (so identity
    and bucket partitions on a key prune as well as min/max statistics do). A key column promoted in
    ``table_schemas`` (all schemas of the table; int to long...) is left out: pyiceberg 0.11 decodes the
    bounds its older files hold with the new type and fails.
    """
    from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, In, LessThanOrEqual, Reference

    expr: BooleanExpression = AlwaysTrue()
    for key in keys:
        column = batch.column(key)
        if not _orderable(column.type) or column.null_count == len(column):
            continue
        field = schema.find_field(key)
        if any(
            f.field_type != field.field_type
            for s in table_schemas
            for f in s.fields
            if f.field_id == field.field_id
        ):
            continue
        name = schema.find_column_name(field.field_id) or key
        bounds = pc.min_max(column)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        expr = And(
            expr,
            And(
                GreaterThanOrEqual(term=Reference(name), value=low),
                LessThanOrEqual(term=Reference(name), value=high),
            ),
        )
        if batch.num_rows <= MAX_IN_KEYS:
            expr = And(expr, In(term=Reference(name), values=set(pc.unique(column).to_pylist())))
    return expr


def _orderable(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
        or pa.types.is_date(t) or pa.types.is_timestamp(t) or pa.types.is_decimal(t)
    )  # fmt: skip


def engine_path(path: str) -> str:
    """A data file's path as the engine's ``_path`` virtual column reports it."""
    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return parsed.path
    return parsed.netloc + parsed.path


def rows_matching(
    engine: Engine,
    table: Table,
    files: Sequence[DataFile],
    schema: Schema,
    condition: str,
    columns: Sequence[str],
) -> dict[str, pa.Array]:
    """Of ``files``, those holding rows where ``condition`` is true, with those rows' positions.

    Args:
        engine: The engine.
        table: The table the files belong to (columns are matched by field id).
        files: Candidate data files.
        schema: The schema the condition's columns are read with.
        condition: A boolean SQL expression over ``columns`` (NULL counts as false).
        columns: The columns the condition needs (only they are read).

    Returns:
        ``{file path: sorted 0-based row positions}`` for the files with at least one such row.
    """
    if not files:
        return {}
    from pyiceberg.schema import Schema as IcebergSchema

    read = IcebergSchema(*([schema.find_field(c) for c in columns] or list(schema.fields[:1])))
    source = files_source(engine, table, read, [f.file_path for f in files], ("_path", "_row_number"))
    found = engine.query_arrow(
        f"SELECT _path AS p, _row_number AS r FROM {source} WHERE ifNull(({condition}), 0) ORDER BY p, r"
    )
    if found.num_rows == 0:
        return {}
    by_engine_path = {engine_path(f.file_path): f.file_path for f in files}
    out: dict[str, pa.Array] = {}
    grouped = found.group_by("p").aggregate([("r", "list")])
    for p, positions in zip(grouped.column("p").to_pylist(), grouped.column("r_list"), strict=True):
        path = by_engine_path.get(str(p)) or by_engine_path.get("/" + str(p).lstrip("/"))
        if path is None:
            from ..errors import RatError

            raise RatError(f"internal error: the engine read a file that was not planned: {p}")
        out[path] = pc.cast(positions.values, pa.int64())
    return out


def in_condition(keys: Sequence[str], stage: str) -> str:
    """``(k1, k2) IN (SELECT k1, k2 FROM stage)``: rows whose key is in a staged batch."""
    key_list = ", ".join(quote_identifier(k) for k in keys)
    return f"({key_list}) IN (SELECT {key_list} FROM {stage})"


def read_data_file(table: Table, metadata: TableMetadata, data_file: DataFile) -> pa.Table:
    """One data file's rows, in file order, in the table's current schema (columns matched by field id)."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan
    from pyiceberg.table import FileScanTask

    scan = ArrowScan(metadata, table.io, metadata.schema(), AlwaysTrue(), case_sensitive=True)
    return scan.to_table([FileScanTask(data_file)])


def position_mask(num_rows: int, positions: pa.Array) -> pa.Array:
    """A boolean mask of ``num_rows`` rows, true at ``positions``."""
    import numpy as np

    mask = np.zeros(num_rows, dtype=bool)
    mask[positions.to_numpy(zero_copy_only=False)] = True
    return pa.array(mask)
