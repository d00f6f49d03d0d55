"""Conditions (see :mod:`ratatouille.sql.conditions`) bound to a table's schema as an Iceberg row filter.

A literal only becomes an Iceberg literal when ClickHouse and Iceberg compare it with the column the same
way; a column only by its field id, under the name the table's current schema gives it (Iceberg binds
filters to that schema, and file statistics are kept per field id). Anything else becomes AlwaysTrue,
which reads every file.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
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

    A column is the top-level primitive field ``schema`` names so; the filter names it as ``current``
    (the one Iceberg binds filters to) names that field id, and a field ``current`` no longer has (dropped
    since) is not used. A field whose type differs in some schema of ``table_schemas`` (a promotion) is
    only used for ``IS [NOT] NULL``. Anything else is AlwaysTrue.

    Args:
        cond: The condition (None: nothing known).
        schema: The schema the read uses (the engine's column names).
        table_schemas: All schemas of the table.
        current: The table's current schema.
    """
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.expressions.visitors import bind

    if cond is None:
        return AlwaysTrue()
    expr = _expression(cond, schema, current, [current, *table_schemas])
    try:
        bind(current, expr, case_sensitive=True)  # proves Iceberg reads every name and literal the same
    except Exception:  # a filter Iceberg cannot bind is not a proof
        return AlwaysTrue()
    return expr


def _expression(
    cond: Cond, schema: Schema, current: Schema, table_schemas: Sequence[Schema]
) -> BooleanExpression:
    from pyiceberg.expressions import AlwaysTrue, And, Or

    if isinstance(cond, AllOf | AnyOf):
        parts = [_expression(p, schema, current, table_schemas) for p in cond.parts]
        combine = And if isinstance(cond, AllOf) else Or
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return result
    column = _column(cond.column, schema, current, table_schemas)
    if column is None or (not column.bounds and cond.op not in ("is_null", "not_null")):
        return AlwaysTrue()
    return _leaf_expression(cond, column.name, column.field_type)


@dataclass(frozen=True)
class _Column:
    """A column of the read as the filter names it.

    Attributes:
        name: Its name in the current schema (the same field id).
        field_type: Its type.
        bounds: Whether its min / max statistics may be used (False: only its null counts).
    """

    name: str
    field_type: IcebergType
    bounds: bool


def _column(name: str, schema: Schema, current: Schema, table_schemas: Sequence[Schema]) -> _Column | None:
    """The field ``name`` of ``schema``, as the filter bound to ``current`` names it (None: not used).

    Iceberg keeps every file's statistics by field id, so a filter bound to the field id holds for every
    file whatever the column was called when it was written: a rename prunes like any column. A field
    dropped and added again under the same name has a new field id: the files written before hold no
    statistics for it (the engine reads it there as NULL), and pyiceberg's metrics and partition
    evaluators keep a file without statistics for every predicate this module makes (``IS NULL``
    included: only a null count of 0 skips a file; the module never makes ``!=`` or ``NOT IN``).
    """
    field = next((f for f in schema.fields if f.name == name), None)
    if field is None or not field.field_type.is_primitive:
        return None
    now = next((f for f in current.fields if f.field_id == field.field_id), None)
    if now is None:
        return None  # dropped since: Iceberg could not bind it
    try:
        if current.find_field(now.name, case_sensitive=True).field_id != field.field_id:
            return None  # the name binds to another field (a dotted name of a nested one)
    except ValueError:
        return None
    types = [f.field_type for s in table_schemas for f in s.fields if f.field_id == field.field_id]
    # A promoted field (int to long, float to double, a wider decimal): files written before hold bounds
    # of the old width, which pyiceberg 0.11 decodes with the current type (a 4-byte int bound read as a
    # long fails: "unpack requires a buffer of 8 bytes"), so only its null counts are used.
    bounds = all(t == field.field_type for t in [now.field_type, *types])
    return _Column(now.name, field.field_type, bounds)


def _predicate(kind: str, *args: Any) -> BooleanExpression:
    """A pyiceberg predicate by class name.

    They take (term, literal) positionally, which their pydantic signatures hide from type checkers.
    """
    from pyiceberg import expressions as ex

    made: BooleanExpression = getattr(ex, kind)(*args)
    return made


def _leaf_expression(leaf: Leaf, name: str, field_type: IcebergType) -> BooleanExpression:
    from pyiceberg.expressions import AlwaysTrue, And, Or
    from pyiceberg.types import BooleanType

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
