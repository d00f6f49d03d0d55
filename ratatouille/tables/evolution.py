"""Schema alignment on write: cast what is safe, evolve what Iceberg allows, refuse the rest by name.

New columns are added (nullable). A column whose incoming type widens the table's (int to long, float to
double, a wider decimal) promotes the table column. Incoming values that fit the table's type exactly
(int into long or double, a naive timestamp into a timestamptz column...) are cast. Anything else is a
type conflict, refused with the column and a sample value named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from ..arrowtypes import storable_type, to_storable
from ..errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.schema import Schema


@dataclass
class Alignment:
    """The result of aligning incoming data with a table.

    Attributes:
        data: The incoming data cast to the table's types (columns in table order, then new ones).
        new_schema: The Arrow schema to ``union_by_name`` into the table, or None when unchanged.
        missing: Table columns absent from the incoming data.
        added: Names of new columns.
        promoted: Names of columns whose type widens.
    """

    data: pa.Table
    new_schema: pa.Schema | None
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)


def _is_int(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t))


def _promotable(table_t: pa.DataType, incoming_t: pa.DataType) -> bool:
    """Iceberg can widen the table's type to the incoming one."""
    if table_t == pa.int32() and incoming_t == pa.int64():
        return True
    if table_t == pa.float32() and incoming_t == pa.float64():
        return True
    if pa.types.is_decimal(table_t) and pa.types.is_decimal(incoming_t):
        return bool(table_t.scale == incoming_t.scale) and bool(incoming_t.precision >= table_t.precision)
    return False


def _castable(incoming_t: pa.DataType, table_t: pa.DataType) -> bool:
    """Incoming values convert to the table's type without changing meaning."""
    if incoming_t == table_t:
        return True
    if _is_int(incoming_t) and (
        _is_int(table_t) or pa.types.is_floating(table_t) or pa.types.is_decimal(table_t)
    ):
        return True  # range is checked by a safe cast
    if pa.types.is_floating(incoming_t) and pa.types.is_floating(table_t):
        return bool(incoming_t.bit_width <= table_t.bit_width)
    if pa.types.is_decimal(incoming_t) and pa.types.is_decimal(table_t):
        return bool(incoming_t.scale <= table_t.scale)
    if pa.types.is_decimal(incoming_t) and pa.types.is_floating(table_t):
        return True
    if pa.types.is_timestamp(incoming_t) and pa.types.is_timestamp(table_t):
        return True  # naive timestamps are UTC
    if pa.types.is_date(incoming_t) and pa.types.is_timestamp(table_t):
        return True
    if pa.types.is_string(incoming_t) and pa.types.is_string(table_t):
        return True
    return bool(pa.types.is_binary(incoming_t) and pa.types.is_binary(table_t))


def _sample_failure(column: pa.ChunkedArray, target: pa.DataType) -> str:
    for value in column.drop_null().slice(0, 1000).to_pylist():
        try:
            pa.array([value]).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return repr(value)
    first = column.drop_null().slice(0, 1).to_pylist()
    return repr(first[0]) if first else "NULL"


def align(incoming: pa.Table, table_schema: Schema, table_name: str, fill_missing: bool = True) -> Alignment:
    """Align incoming data with a table's schema.

    Args:
        incoming: The data to write.
        table_schema: The Iceberg schema of the table.
        table_name: For messages.
        fill_missing: Add absent table columns as NULL (append/overwrite); a merge keeps them out.

    Returns:
        The aligned data and the schema change to apply, if any.

    Raises:
        InvalidInput: A column's type conflicts with the table's.
    """
    null_columns = {f.name for f in incoming.schema if pa.types.is_null(f.type)}
    data = to_storable(incoming)
    table_arrow = table_schema.as_arrow()
    table_types = {f.name: storable_type(f.type) for f in table_arrow}
    lower = {name.lower(): name for name in table_types}
    columns: dict[str, pa.ChunkedArray] = {}
    evolve_fields: list[pa.Field] = []
    added: list[str] = []
    promoted: list[str] = []
    for name in data.column_names:
        column = data.column(name)
        if name not in table_types:
            if name.lower() in lower:
                raise InvalidInput(
                    f"column {name!r} differs only in case from {lower[name.lower()]!r} of {table_name}; "
                    "rename it to match"
                )
            columns[name] = column
            evolve_fields.append(pa.field(name, column.type, nullable=True))
            added.append(name)
            continue
        table_t = table_types[name]
        if name in null_columns:
            columns[name] = pa.nulls(len(column), table_t)
            continue
        if column.type == table_t:
            columns[name] = column
        elif _promotable(table_t, column.type):
            columns[name] = column
            evolve_fields.append(pa.field(name, column.type, nullable=True))
            promoted.append(name)
        elif _castable(column.type, table_t):
            try:
                columns[name] = _cast(column, table_t)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise InvalidInput(
                    f"column {name!r} of {table_name} is {table_t} but a value does not fit: "
                    f"{_sample_failure(column, table_t)} ({e})"
                ) from e
        else:
            raise InvalidInput(
                f"column {name!r} of {table_name} is {_describe(table_t)} but the data has "
                f"{_describe(column.type)} (for example {_sample_failure(column, table_t)}); "
                "cast it in the query or write to a new column"
            )
    ordered: list[str] = [n for n in table_types if n in columns] + [
        n for n in columns if n not in table_types
    ]
    missing = [n for n in table_types if n not in columns]
    if fill_missing:
        for n in missing:
            columns[n] = pa.chunked_array([pa.nulls(len(data), table_types[n])])
        ordered = list(table_types) + [n for n in columns if n not in table_types]
    out = pa.table({n: columns[n] for n in ordered})
    new_schema = pa.schema(evolve_fields) if evolve_fields else None
    return Alignment(out, new_schema, missing if not fill_missing else [], added, promoted)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(target) and column.type.tz != target.tz:
        # naive means UTC: re-tag rather than shift
        if column.type.tz is None:
            column = pc.assume_timezone(column, "UTC") if target.tz else column
        else:
            column = column.cast(pa.timestamp(column.type.unit, tz="UTC"))
            if target.tz is None:
                column = pc.local_timestamp(column)
    return column.cast(target, safe=True)


def _describe(t: pa.DataType) -> str:
    names = {
        pa.int32(): "int", pa.int64(): "long", pa.float32(): "float", pa.float64(): "double",
        pa.string(): "string", pa.bool_(): "boolean", pa.date32(): "date", pa.binary(): "binary",
    }  # fmt: skip
    if t in names:
        return names[t]
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    return str(t)
