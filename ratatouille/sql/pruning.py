"""File pruning: which conditions of a query tell, for sure, that a data file holds no row it reads.

A reference ``{ns.t}`` is read through the list of its snapshot's data files. When the query filters
the reference's rows with simple conditions (see :mod:`ratatouille.sql.conditions`), they become an
Iceberg row filter, and Iceberg's planning drops the files whose partition values or column
statistics (min / max / null counts) show that no row can match. The engine still applies the whole
WHERE to the files it reads: the filter only has to hold for every row the query keeps, never the
other way round. So anything not proven (an unknown column, a type that compares differently in
ClickHouse and Iceberg, an alias that shadows a column, an outer join) reads all files.
"""

from __future__ import annotations

import contextvars
import functools
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..sqltext import find_placeholders, substitute
from .conditions import (
    DATE32_YEARS,
    DATETIME64_YEARS,
    AllOf,
    AnyOf,
    Cond,
    Leaf,
    Value,
    all_of,
    any_of,
    condition,
    date_days,
    datetime_micros,
)

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.expressions.literals import Literal
    from pyiceberg.schema import Schema
    from pyiceberg.types import IcebergType
    from sqlglot import exp

_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("ratatouille_pruning", default=True)
_MARKER = "__rat_ref_"
_DAY_MICROS = 86_400_000_000
_DOUBLE_EXACT_INT = 2**53
_FLOAT_EXACT_INT = 2**24


@contextmanager
def pruning_disabled() -> Iterator[None]:
    """Read every data file of each reference inside the block (benchmarks, result comparisons)."""
    token = _ENABLED.set(False)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def pruning_enabled() -> bool:
    """False inside :func:`pruning_disabled`."""
    return _ENABLED.get()


# -- SQL text -> conditions per reference ---------------------------------------------------------------


def reference_filters(sql: str) -> dict[str, Cond | None]:
    """The condition every row read through each ``{ns.t}`` reference of ``sql`` satisfies.

    Keys are the references as written (``str(TableRef)``); None means "nothing known: read all files".
    A reference written several times gets the ``OR`` of its uses, so one file list serves them all.
    The analysis is cached per SQL text.

    Args:
        sql: SQL with ``{ns.t}`` references, as the user wrote it.
    """
    return dict(_reference_filters(sql))


@functools.lru_cache(maxsize=256)
def _reference_filters(sql: str) -> tuple[tuple[str, Cond | None], ...]:
    found = [f for f in find_placeholders(sql) if f.table is not None]
    keys = [str(f.table) for f in found]
    if not found:
        return ()
    marker = _MARKER
    while marker in sql:  # the stand-in names can never be names of the query itself
        marker = "_" + marker
    index = {f.start: i for i, f in enumerate(found)}
    text = substitute(sql, found, lambda f: f"{marker}{index[f.start]}")
    uses: dict[int, Cond | None] = {}
    try:
        uses = _use_conditions(text, marker, strings="\\" not in sql)
    except Exception:  # a query sqlglot cannot read is read whole, never refused here
        uses = {}
    per_key: dict[str, list[Cond | None]] = {}
    for i, key in enumerate(keys):
        per_key.setdefault(key, []).append(uses.get(i))
    return tuple((key, any_of(conds)) for key, conds in per_key.items())


def _use_conditions(text: str, marker: str, strings: bool) -> dict[int, Cond | None]:
    """Conditions per use (the n-th placeholder) of the SQL where placeholders became ``marker<n>``."""
    import sqlglot
    from sqlglot import exp

    statements = sqlglot.parse(text, read="clickhouse")
    if len(statements) != 1 or statements[0] is None:
        return {}
    tree = statements[0]
    shadowing = _names_other_than_columns(tree)
    uses: dict[int, Cond | None] = {}
    for select in tree.find_all(exp.Select):
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is None:
            continue
        joins: list[exp.Join] = list(select.args.get("joins") or [])
        sources = [from_.this, *(j.this for j in joins)]
        for position, source in enumerate(sources):
            use = _use_index(source, marker)
            if use is None or not _join_keeps_filter(joins, position):
                continue
            alias = source.alias
            sole = len(sources) == 1

            def column_of(col: exp.Column, alias: str = alias, sole: bool = sole) -> str | None:
                if col.args.get("db") or col.args.get("catalog") or type(col.this) is not exp.Identifier:
                    return None
                name = str(col.this.this)
                if col.args.get("table"):
                    # A qualified column names the table's column even where an alias has its name.
                    return name if alias and col.table == alias else None
                # ClickHouse lets an alias of the query shadow a column: such a name may be anything.
                return name if sole and name not in shadowing else None

            clauses = [select.args.get("prewhere"), select.args.get("where")]
            uses[use] = all_of(condition(c.this, column_of, strings) for c in clauses if c is not None)
    return uses


def _use_index(source: exp.Expr, marker: str) -> int | None:
    from sqlglot import exp

    if type(source) is not exp.Table or any(k not in ("this", "alias") for k, v in source.args.items() if v):
        return None  # FINAL, SAMPLE, a database prefix...: not a plain use
    alias = source.args.get("alias")
    if alias is not None and alias.args.get("columns"):
        return None
    name = source.name
    if not name.startswith(marker) or not name[len(marker) :].isdigit():
        return None
    return int(name[len(marker) :])


def _join_keeps_filter(joins: list[exp.Join], position: int) -> bool:
    """True when a WHERE on the source at ``position`` (0: FROM) only drops rows of that source.

    Inner and cross joins, and LEFT joins whose preserved side is this (FROM) source. Not outer joins
    on its nullable side (ClickHouse fills unmatched rows with defaults, which a WHERE may keep), nor
    ANY / ASOF / SEMI / ANTI / ARRAY / GLOBAL / PASTE joins, whose rows depend on which rows are read.
    """
    for join in joins:
        if any(k not in ("this", "on", "using", "side", "kind") for k, v in join.args.items() if v):
            return False
        side, kind = str(join.side or "").upper(), str(join.kind or "").upper()
        if side == "" and kind in ("", "INNER", "CROSS"):
            continue
        if side == "LEFT" and kind in ("", "OUTER") and position == 0:
            continue
        return False
    return True


def _names_other_than_columns(tree: exp.Expr) -> set[str]:
    """Aliases, CTE and table names, lambda parameters: unqualified names that may not be columns."""
    from sqlglot import exp

    names: set[str] = set()
    for node in tree.find_all(exp.Alias, exp.TableAlias, exp.Lambda):
        if isinstance(node, exp.Alias):
            names.add(node.alias)
        elif isinstance(node, exp.TableAlias):
            names.add(node.name)
            names.update(c.name for c in node.args.get("columns") or [])
        else:
            names.update(p.name for p in node.expressions)
    return names


def predicate_filter(predicate: str, schema: Schema) -> BooleanExpression:
    """An Iceberg filter true of every row for which a bare SQL predicate over the table is true.

    The predicate is what follows ``WHERE`` (as in ``DELETE WHERE user_id IN (42, 43)``), its columns
    unqualified. The filter is a superset: it selects the files that may hold matching rows (AlwaysTrue
    when nothing is proven), so it is for pruning only, never to delete rows by itself.

    Args:
        predicate: A boolean ClickHouse SQL expression.
        schema: The table's schema.
    """
    from pyiceberg.expressions import AlwaysTrue

    try:
        cond = _predicate_condition(predicate)
    except Exception:  # unreadable means unproven: no pruning
        return AlwaysTrue()
    return table_filter(cond, schema, [schema], schema)


@functools.lru_cache(maxsize=256)
def _predicate_condition(predicate: str) -> Cond | None:
    import sqlglot
    from sqlglot import exp

    statements = sqlglot.parse(predicate, read="clickhouse")
    if len(statements) != 1 or statements[0] is None:
        return None
    node = statements[0]
    if isinstance(node, exp.Query) or any(True for _ in node.find_all(exp.Query)):
        return None  # a subquery is not a condition on the table's columns

    def column_of(col: exp.Column) -> str | None:
        plain = not (col.args.get("table") or col.args.get("db") or col.args.get("catalog"))
        return str(col.this.this) if plain and type(col.this) is exp.Identifier else None

    return condition(node, column_of, strings="\\" not in predicate)


# -- conditions -> Iceberg filter -------------------------------------------------------------------


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
        return _timestamp_range(value, isinstance(field_type, TimestamptzType))
    return None if one is None else (one, one)


def _timestamp_range(value: Value, column_utc: bool) -> tuple[Literal[Any], Literal[Any]] | None:
    """A timestamp literal as the engine compares it to a ``DateTime64(6[, 'UTC'])`` column.

    A string compared to a UTC column is read in UTC; an explicitly UTC ``toDateTime`` is an instant.
    Other texts are read in the engine's session time zone, which the SQL does not tell: the instant is
    then known within a day either side of the text read as UTC.
    """
    from pyiceberg.expressions.literals import TimestampLiteral

    if value.kind == "str":
        micros, exact = datetime_micros(str(value.value), 6, DATETIME64_YEARS), column_utc
    elif value.kind == "datetime":
        micros, exact = int(value.value), value.utc
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
