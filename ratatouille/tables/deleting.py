"""Deleting rows by a SQL predicate, file by file.

``rat.ice_delete("silver.users", "user_id IN (42, 43)")``: the predicate is checked against the table's
columns in the engine (one clear error for a typo or an unknown column), turned into an Iceberg row
filter to skip files that cannot hold a matching row, and the engine lists the matching rows of the
remaining candidates. Files whose rows all match are dropped; files with some are rewritten without them;
every other file stays as it is. One commit (none when nothing matches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from ..arrowtypes import empty_select
from ..errors import EngineError, InvalidInput
from ..sqltext import has_references
from .commit import conform
from .merging import RowChange
from .rowlevel import plan_data_files, position_mask, read_data_file, rows_matching

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata

    from ..engine import Engine


def check_predicate(engine: Engine, schema: Schema, predicate: str, table: str) -> list[str]:
    """Check a delete predicate against the table's columns; return the columns it reads.

    Raises:
        InvalidInput: Empty, holding a table reference or several statements, or refused by the engine
            (syntax, unknown column, not a boolean).
    """
    if not isinstance(predicate, str) or not predicate.strip():
        raise InvalidInput(f'delete from {table} needs a predicate, for example "id IN (1, 2)"')
    if has_references(predicate) or ";" in predicate:
        raise InvalidInput(
            f"the delete predicate for {table} must be one condition on its own columns "
            "(no table references, no ';')"
        )
    try:
        engine.query_arrow(f"SELECT count() FROM ({empty_select(schema)}) WHERE ifNull(({predicate}), 0)")
    except EngineError as e:
        raise InvalidInput(f"delete predicate {predicate!r} does not work on {table}: {e}") from e
    return _columns_of(predicate, schema)


def _columns_of(predicate: str, schema: Schema) -> list[str]:
    """The table columns a predicate names (all of them when it cannot be parsed)."""
    names = [f.name for f in schema.fields]
    try:
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(predicate, read="clickhouse")
    except Exception:  # any parse failure: reading every column is always correct
        return names
    used = {c.name for c in tree.find_all(exp.Column)}
    found = [n for n in names if n in used]
    return found or names


def delete_filter(predicate: str, schema: Schema, table_schemas: Sequence[Schema] = ()) -> BooleanExpression:
    """An Iceberg row filter that every row matching ``predicate`` satisfies (prunes files).

    ``table_schemas``: all schemas of the table (see :func:`ratatouille.sql.pruning.predicate_filter`).
    """
    from ..sql.pruning import predicate_filter

    found: BooleanExpression = predicate_filter(predicate, schema, table_schemas)
    return found


def delete_change(
    engine: Engine,
    table: Table,
    metadata: TableMetadata,
    snapshot_id: int | None,
    predicate: str,
    columns: list[str],
) -> RowChange:
    """Plan deleting the rows of snapshot ``snapshot_id`` where ``predicate`` is true.

    Returns:
        The files to remove, the kept rows of partly matching files, and the measured count.
    """
    if snapshot_id is None:
        return RowChange(add=None)
    schema = table.schema()
    candidates = plan_data_files(table, snapshot_id, delete_filter(predicate, schema, table.metadata.schemas))
    hits = rows_matching(engine, table, candidates, schema, predicate, columns)
    removed, kept_parts, deleted = [], [], 0
    for data_file in candidates:
        positions = hits.get(data_file.file_path)
        if positions is None:
            continue
        removed.append(data_file)
        deleted += len(positions)
        if len(positions) == data_file.record_count:
            continue  # every row goes: the file is dropped, nothing to rewrite
        rows = conform(read_data_file(table, metadata, data_file), metadata)
        kept_parts.append(rows.filter(pc.invert(position_mask(rows.num_rows, positions))))
    import pyarrow as pa

    add = pa.concat_tables(kept_parts) if kept_parts else None
    return RowChange(add=add, delete=removed, deleted=deleted)
