"""Conditions (see :mod:`ratatouille.sql.conditions`) bound to a table's schema as an Iceberg row filter.

A literal only becomes an Iceberg literal when ClickHouse and Iceberg compare it with the column the same
way; a column only when it means the same thing in every schema of the table. Anything else becomes
AlwaysTrue, which reads every file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .conditions import (
    DATE32_YEARS,
    DATETIME64_YEARS,
    AllOf,
    AnyOf,
    Cond,
    Leaf,
    Value,
    date_days,
    datetime_micros,
)

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.expressions.literals import Literal
    from pyiceberg.schema import Schema
    from pyiceberg.types import IcebergType

_DAY_MICROS = 86_400_000_000
_DOUBLE_EXACT_INT = 2**53


def table_filter(
    cond: Cond | None, schema: Schema, table_schemas: Sequence[Schema], current: Schema
) -> BooleanExpression:
    """The Iceberg row filter of a condition over a table read with ``schema``.

    A column is only used when it means the same thing in every schema of the table: the same field
    id, name and type in ``schema``, ``current`` (the one Iceberg binds filters to) and every schema of
    ``table_schemas`` that has it; top-level and primitive. Anything else is AlwaysTrue.

    Args:
        cond: The condition (None: nothing known).
        schema: The schema the snapshot was written with (the one the engine reads).
        table_schemas: All schemas of the table.
        current: The table's current schema.
    """
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.expressions.visitors import bind

    if cond is None:
        return AlwaysTrue()
    expr = _expression(cond, schema, [current, *table_schemas])
    try:
        bind(current, expr, case_sensitive=True)  # proves Iceberg reads every name and literal the same
    except Exception:  # a filter Iceberg cannot bind is not a proof
        return AlwaysTrue()
    return expr


def _expression(cond: Cond, schema: Schema, table_schemas: Sequence[Schema]) -> BooleanExpression:
    from pyiceberg.expressions import AlwaysTrue, And, Or

    if isinstance(cond, AllOf | AnyOf):
        parts = [_expression(p, schema, table_schemas) for p in cond.parts]
        combine = And if isinstance(cond, AllOf) else Or
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return result
    field_type = _stable_type(cond.column, schema, table_schemas)
    return AlwaysTrue() if field_type is None else _leaf_expression(cond, field_type)


def _stable_type(name: str, schema: Schema, table_schemas: Sequence[Schema]) -> IcebergType | None:
    top = {f.name: f for f in schema.fields}
    field = top.get(name)
    if field is None or not field.field_type.is_primitive:
        return None
    if not any(f.field_id == field.field_id for f in table_schemas[0].fields):
        return None  # dropped since: Iceberg could not bind it
    for other in table_schemas:
        same_name = next((f for f in other.fields if f.name == name), None)
        same_id = next((f for f in other.fields if f.field_id == field.field_id), None)
        if same_name is not same_id or (same_id is not None and same_id.field_type != field.field_type):
            return None  # renamed, re-created or retyped: files may not mean what the engine reads
    return field.field_type


def _predicate(kind: str, *args: Any) -> BooleanExpression:
    """A pyiceberg predicate by class name.

    They take (term, literal) positionally, which their pydantic signatures hide from type checkers.
    """
    from pyiceberg import expressions as ex

    made: BooleanExpression = getattr(ex, kind)(*args)
    return made


def _leaf_expression(leaf: Leaf, field_type: IcebergType) -> BooleanExpression:
    from pyiceberg.expressions import AlwaysTrue, And, Or
    from pyiceberg.types import BooleanType

    name = leaf.column
    if leaf.op in ("is_null", "not_null"):
        return _predicate("IsNull" if leaf.op == "is_null" else "NotNull", name)
    if isinstance(field_type, BooleanType) and leaf.op not in ("=", "in"):
        return AlwaysTrue()
    ranges = [_literal_range(v, field_type) for v in leaf.values]
    known = [r for r in ranges if r is not None]
    if not known or len(known) != len(ranges):
        return AlwaysTrue()
    if leaf.op in ("=", "in"):
        exact = [lo for lo, hi in known if lo is hi]
        parts = [_predicate("In", name, exact)] if exact else []
        parts += [And(_predicate("GreaterThanOrEqual", name, lo), _predicate("LessThanOrEqual", name, hi))
                  for lo, hi in known if lo is not hi]  # fmt: skip
        return parts[0] if len(parts) == 1 else Or(*parts)
    lo, hi = known[0]
    if lo is not hi:  # the engine's value lies within [lo, hi]: compare with the far end
        return (
            _predicate("LessThanOrEqual", name, hi)
            if leaf.op in ("<", "<=")
            else _predicate("GreaterThanOrEqual", name, lo)
        )
    kinds = {"<": "LessThan", "<=": "LessThanOrEqual", ">": "GreaterThan", ">=": "GreaterThanOrEqual"}
    return _predicate(kinds[leaf.op], name, lo)


def _literal_range(value: Value, field_type: IcebergType) -> tuple[Literal[Any], Literal[Any]] | None:
    """The Iceberg literal(s) a SQL value compares as against a column of ``field_type``.

    One literal ``(v, v)`` (the same object) when exact; ``(lo, hi)`` when the engine's value is only
    known to lie within; None when the comparison is not the same in ClickHouse and Iceberg.
    """
    from pyiceberg.expressions import literals as lit
    from pyiceberg.types import (
        BooleanType,
        DateType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        StringType,
        TimestampType,
        TimestamptzType,
    )

    kind, v = value.kind, value.value
    one: Literal[Any] | None = None
    if isinstance(field_type, IntegerType | LongType) and kind in ("int", "float"):
        bits = 31 if isinstance(field_type, IntegerType) else 63
        if isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer():
            number = int(v)
            one = lit.LongLiteral(number) if -(2**bits) <= number < 2**bits else None
    elif isinstance(field_type, DoubleType) and kind in ("int", "float") and isinstance(v, int | float):
        if kind == "float" or abs(int(v)) <= _DOUBLE_EXACT_INT:
            one = lit.DoubleLiteral(float(v))
    elif isinstance(field_type, FloatType) and kind in ("int", "float") and isinstance(v, int | float):
        # ClickHouse compares a Float32 column with a Float64 literal in Float64: only values a Float32
        # holds exactly compare the same in Iceberg, whose float literals are Float32.
        as_float = float(v)
        if struct.unpack("<f", struct.pack("<f", as_float))[0] == as_float and abs(as_float) < 2**127:
            one = lit.FloatLiteral(as_float)
    elif isinstance(field_type, BooleanType) and kind == "bool":
        one = lit.BooleanLiteral(bool(v))
    elif isinstance(field_type, StringType) and kind == "str":
        one = lit.StringLiteral(str(v))
    elif isinstance(field_type, DateType):
        days = date_days(str(v), DATE32_YEARS) if kind == "str" else v if kind == "date" else None
        one = None if days is None else lit.DateLiteral(int(days))
    elif isinstance(field_type, TimestampType | TimestamptzType):
        return _timestamp_range(value)
    return None if one is None else (one, one)


def _timestamp_range(value: Value) -> tuple[Literal[Any], Literal[Any]] | None:
    """A timestamp literal as the engine compares it to a ``DateTime64(6[, 'UTC'])`` column.

    A string is read in the engine's session time zone, which is UTC (``engine.base.SESSION_TIMEZONE``),
    and so is a column without zone: the text is an exact instant either way, as is an explicitly UTC
    ``toDateTime`` (one in another zone is not taken at all). A date is known within a day either side.
    """
    from pyiceberg.expressions.literals import TimestampLiteral

    if value.kind == "str":
        micros, exact = datetime_micros(str(value.value), 6, DATETIME64_YEARS), True
    elif value.kind == "datetime":
        micros, exact = int(value.value), True  # explicitly UTC, or in the session's zone: UTC too
    elif value.kind == "date":
        micros, exact = int(value.value) * _DAY_MICROS, False
    else:
        return None
    if micros is None:
        return None
    if exact:
        one = TimestampLiteral(micros)
        return one, one
    return TimestampLiteral(micros - _DAY_MICROS), TimestampLiteral(micros + _DAY_MICROS)
