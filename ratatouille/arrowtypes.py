"""Type mapping between Arrow, ClickHouse and Iceberg.

Three jobs: Arrow schemas to ClickHouse column types (staging a DataFrame in the engine), Iceberg schemas
to ClickHouse types (an empty table has no files to read, so it is rendered as a typed empty select),
and Arrow tables to what Iceberg can store (no unsigned or 8/16-bit integers, microsecond timestamps,
no null-typed columns, no dictionaries).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pyarrow as pa

from .errors import InvalidInput
from .sqltext import quote_identifier

if TYPE_CHECKING:
    from pyiceberg.schema import Schema
    from pyiceberg.types import IcebergType


def arrow_to_clickhouse(t: pa.DataType) -> str:
    """The ClickHouse type (not wrapped in Nullable) that holds Arrow type ``t``."""
    if pa.types.is_dictionary(t):
        return arrow_to_clickhouse(t.value_type)
    simple = {
        pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32", pa.int64(): "Int64",
        pa.uint8(): "UInt8", pa.uint16(): "UInt16", pa.uint32(): "UInt32", pa.uint64(): "UInt64",
        pa.float16(): "Float32", pa.float32(): "Float32", pa.float64(): "Float64",
        pa.bool_(): "Bool", pa.string(): "String", pa.large_string(): "String",
        pa.binary(): "String", pa.large_binary(): "String", pa.date32(): "Date32", pa.date64(): "Date32",
        pa.null(): "String",
    }  # fmt: skip
    if t in simple:
        return simple[t]
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t):
        return "String"
    if pa.types.is_timestamp(t):
        precision = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        return f"DateTime64({precision}, 'UTC')" if t.tz else f"DateTime64({precision})"
    if pa.types.is_time(t):
        return "Int64"
    if pa.types.is_decimal(t):
        return f"Decimal({t.precision}, {t.scale})"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"Array({nullable(arrow_to_clickhouse(t.value_type))})"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{quote_identifier(f.name)} {nullable(arrow_to_clickhouse(f.type))}" for f in t)
        return f"Tuple({inner})"
    if pa.types.is_map(t):
        return f"Map({arrow_to_clickhouse(t.key_type)}, {nullable(arrow_to_clickhouse(t.item_type))})"
    raise InvalidInput(f"cannot stage Arrow type {t} in the engine")


def nullable(ch_type: str) -> str:
    """Wrap a ClickHouse type in Nullable where ClickHouse allows it."""
    if ch_type.startswith(("Array(", "Tuple(", "Map(", "Nullable(")):
        return ch_type
    return f"Nullable({ch_type})"


def iceberg_to_clickhouse(t: IcebergType) -> str:
    """The ClickHouse type the engine reads an Iceberg column as (without Nullable)."""
    from pyiceberg import types as it

    mapping: list[tuple[type, str]] = [
        (it.BooleanType, "Bool"), (it.IntegerType, "Int32"), (it.LongType, "Int64"),
        (it.FloatType, "Float32"), (it.DoubleType, "Float64"), (it.DateType, "Date32"),
        (it.StringType, "String"), (it.UUIDType, "UUID"), (it.BinaryType, "String"),
        (it.FixedType, "String"), (it.TimeType, "Int64"),
    ]  # fmt: skip
    for cls, name in mapping:
        if isinstance(t, cls):
            return name
    if isinstance(t, it.TimestamptzType):
        return "DateTime64(6, 'UTC')"
    if isinstance(t, it.TimestampType):
        return "DateTime64(6)"
    if isinstance(t, it.DecimalType):
        return f"Decimal({t.precision}, {t.scale})"
    if isinstance(t, it.ListType):
        return f"Array({nullable(iceberg_to_clickhouse(t.element_type))})"
    if isinstance(t, it.MapType):
        return f"Map({iceberg_to_clickhouse(t.key_type)}, {nullable(iceberg_to_clickhouse(t.value_type))})"
    if isinstance(t, it.StructType):
        inner = ", ".join(
            f"{quote_identifier(f.name)} {nullable(iceberg_to_clickhouse(f.field_type))}" for f in t.fields
        )
        return f"Tuple({inner})"
    return "String"


def empty_select(schema: Schema) -> str:
    """A SELECT returning no rows with the columns and types of an Iceberg schema."""
    from .sqltext import quote_literal

    def typed(ch_type: str) -> str:
        # The type is a string literal: quoted, as a type such as DateTime64(6, 'UTC') holds quotes.
        # Arrays, tuples and maps cannot be NULL: their default value carries the type (no row is read).
        if ch_type.startswith("Nullable("):
            return f"CAST(NULL, {quote_literal(ch_type)})"
        return f"defaultValueOfTypeName({quote_literal(ch_type)})"

    cols = [
        f"{typed(nullable(iceberg_to_clickhouse(f.field_type)))} AS {quote_identifier(f.name)}"
        for f in schema.fields
    ]
    return f"SELECT {', '.join(cols) or '1 AS _empty'} WHERE 0"


_DATETIME_RE = re.compile(r"^(DateTime64|DateTime)(?:\((.*)\))?$")
_WRAPPER_RE = re.compile(r"^(?:Nullable|LowCardinality)\((.*)\)$")


def _unwrap(ch_type: str) -> str:
    while m := _WRAPPER_RE.match(ch_type):
        ch_type = m.group(1)
    return ch_type


def fix_engine_arrow(table: pa.Table, described: list[tuple[str, str]]) -> pa.Table:
    """Repair the Arrow types ClickHouse emits, given the result's ClickHouse types.

    ``DateTime`` columns come out as ``uint32`` seconds: they become ``timestamp[s]``. ``DateTime64`` columns
    without an explicit time zone come out tagged UTC: they become naive again, so that an Iceberg
    ``timestamp`` column round-trips as ``timestamp`` and not ``timestamptz``.
    """
    types = dict(described)
    columns = []
    changed = False
    for name, column in zip(table.column_names, table.columns, strict=True):
        m = _DATETIME_RE.match(_unwrap(types.get(name, "")))
        if m:
            args = [a.strip().strip("'") for a in (m.group(2) or "").split(",") if a.strip()]
            tz = args[-1] if args and not args[-1].isdigit() else None
            if m.group(1) == "DateTime" and pa.types.is_integer(column.type):
                column = column.cast(pa.int64()).cast(pa.timestamp("s", tz="UTC"))
                changed = True
            if pa.types.is_timestamp(column.type) and tz is None and column.type.tz is not None:
                column = column.cast(pa.timestamp(column.type.unit))
                changed = True
            elif pa.types.is_timestamp(column.type) and tz is not None and column.type.tz != tz:
                column = column.cast(pa.timestamp(column.type.unit, tz=tz))
                changed = True
        columns.append(column)
    if not changed:
        return table
    return pa.table(columns, names=table.column_names)


def needs_type_fix(schema: pa.Schema) -> bool:
    """True when a result may hold columns :func:`fix_engine_arrow` must repair."""
    return any(pa.types.is_uint32(f.type) or pa.types.is_timestamp(f.type) for f in schema)


def storable_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Iceberg stores for ``t``."""
    if pa.types.is_dictionary(t):
        return storable_type(t.value_type)
    if t in (pa.int8(), pa.int16(), pa.uint8(), pa.uint16()):
        return pa.int32()
    if t in (pa.uint32(), pa.uint64()):
        return pa.int64()
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pa.list_(storable_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, storable_type(f.type), nullable=True) for f in t])
    if pa.types.is_map(t):
        return pa.map_(storable_type(t.key_type), storable_type(t.item_type))
    return t


def to_storable(table: pa.Table) -> pa.Table:
    """Cast an Arrow table to types Iceberg stores, every column nullable.

    Raises:
        InvalidInput: A value does not fit (for example a UInt64 above the Int64 range).
    """
    fields = [pa.field(f.name, storable_type(f.type), nullable=True) for f in table.schema]
    target = pa.schema(fields)
    if target == table.schema:
        return table
    try:
        return table.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidInput(f"cannot store the data in Iceberg: {e}") from e
