"""Merge (upsert by keys) computed in the engine.

The batch is checked (keys present, no NULL keys, no duplicate keys), staged in the engine, and the new
table content is one query: the target's rows whose keys are not in the batch, plus the batch rows
(columns the batch lacks keep the target's values for updated rows). Counts are measured, not estimated.
The caller commits the result as one Iceberg overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from .errors import InvalidInput
from .sqltext import quote_identifier
from .staging import staged

if TYPE_CHECKING:
    from .engine import Engine

# Unmatched LEFT JOIN columns must be NULL, not ClickHouse's type defaults.
_JOIN_SETTINGS = {"join_use_nulls": 1}


@dataclass
class MergeOutcome:
    """The merged table content and what the merge did."""

    data: pa.Table
    inserted: int
    updated: int


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
    dups = counts.filter(pa.compute.greater(counts.column("count_all"), 1))
    if dups.num_rows:
        example = {k: dups.column(k)[0].as_py() for k in keys}
        raise InvalidInput(
            f"merge into {target} refused: {dups.num_rows} key(s) appear more than once in the data, "
            f"for example {example}"
        )


def compute_merge(
    engine: Engine,
    target_sql: str | None,
    target_columns: list[str],
    batch: pa.Table,
    keys: list[str],
    existing_columns: list[str] | None = None,
) -> MergeOutcome:
    """Compute the merged content of a table.

    Args:
        engine: The engine.
        target_sql: A parenthesized SELECT over the target's current snapshot, or None when it is empty.
        target_columns: The target's columns after schema evolution, in order.
        batch: The incoming rows, aligned with the target (it may lack some target columns).
        keys: The merge keys.
        existing_columns: The columns the target's snapshot has (columns the batch adds are NULL in
            the target's kept rows); all of ``target_columns`` when omitted.

    Returns:
        The merged data and the measured counts.
    """
    if target_sql is None:
        return MergeOutcome(batch, inserted=batch.num_rows, updated=0)
    key_list = ", ".join(quote_identifier(k) for k in keys)
    key_tuple = f"({key_list})"
    with staged(engine, batch) as stage:
        # Distinct target keys found in the batch = batch rows that update (batch keys are unique).
        # Scanning the target's key columns against the small batch's key set is ~5x faster than
        # probing the batch against a set built from the whole target.
        updated_rows = engine.query_arrow(
            f"SELECT uniqExact({key_list}) AS n FROM {target_sql} "
            f"WHERE {key_tuple} IN (SELECT {key_list} FROM {stage})"
        )
        updated = int(updated_rows.column("n")[0].as_py())
        in_batch = set(batch.column_names)
        in_target = set(target_columns if existing_columns is None else existing_columns)
        kept = ", ".join(
            quote_identifier(c) if c in in_target else f"NULL AS {quote_identifier(c)}"
            for c in target_columns
        )
        columns = ", ".join(quote_identifier(c) for c in target_columns)
        if all(c in in_batch for c in target_columns):
            new_rows = f"SELECT {columns} FROM {stage}"
        else:
            cols = ", ".join(
                f"s.{quote_identifier(c)} AS {quote_identifier(c)}" if c in in_batch
                else f"t.{quote_identifier(c)} AS {quote_identifier(c)}"
                for c in target_columns
            )  # fmt: skip
            on = " AND ".join(f"s.{quote_identifier(k)} = t.{quote_identifier(k)}" for k in keys)
            new_rows = f"SELECT {cols} FROM {stage} AS s LEFT JOIN {target_sql} AS t ON {on}"
        # A target row with a NULL key (appended before) matches no batch row (batch keys are checked
        # non-NULL) and is kept; `NULL NOT IN (...)` alone would drop it. transform_null_in=1 would keep
        # it too, but makes the set lookups several times slower.
        null_key = " OR ".join(f"isNull({quote_identifier(k)})" for k in keys)
        merged = engine.query_arrow(
            f"SELECT {kept} FROM {target_sql} "
            f"WHERE {key_tuple} NOT IN (SELECT {key_list} FROM {stage}) OR {null_key} "
            f"UNION ALL {new_rows}",
            settings=_JOIN_SETTINGS,
        )
    return MergeOutcome(merged, inserted=batch.num_rows - updated, updated=updated)
