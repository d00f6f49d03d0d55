"""Simple conditions of ClickHouse SQL, taken out of a sqlglot tree into a small form of our own.

Only what is certain is taken: a column compared to a literal (``=``, ``<``, ``<=``, ``>``, ``>=``),
``IN`` a list of literals, ``BETWEEN``, ``IS [NOT] NULL``, and ``AND`` / ``OR`` of those. Anything else
(``NOT``, ``!=``, functions of a column, casts of a column, column-to-column comparisons, parameters,
subqueries) is *unknown*, written ``None``: it may be true of any row. A condition is monotone (no
negation), so dropping an unknown part of an ``AND`` keeps it true of every row the query keeps, and an
unknown part of an ``OR`` makes the whole ``OR`` unknown.

Literals are kept as written (a string stays a string): what a string means depends on the column it is
compared to, which only the table's schema tells (see :mod:`ratatouille.sql.iceberg_filter`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from sqlglot import exp

_INT_RE = re.compile(r"(?:0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?)?"
)
_INT64 = 2**63
_EPOCH = dt.datetime(1970, 1, 1)

# Years each ClickHouse date/time type holds exactly; outside them a value is clamped, so it is not taken.
DATE_YEARS = (1970, 2148)  # Date
DATE32_YEARS = (1900, 2299)  # Date32
DATETIME_YEARS = (1970, 2105)  # DateTime
DATETIME64_YEARS = (1900, 2299)  # DateTime64

_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class Value:
    """A literal of the SQL text.

    Attributes:
        kind: ``int``, ``float``, ``bool``, ``str`` (text as written), ``date`` (days since 1970-01-01)
            or ``datetime`` (microseconds since 1970-01-01 00:00, read as UTC).
        value: The value.
        utc: For ``datetime``: the literal names an instant in UTC; False when the engine reads it in its
            session time zone, which the SQL text does not tell.
    """

    kind: str
    value: int | float | bool | str
    utc: bool = True


@dataclass(frozen=True)
class Leaf:
    """``column op values``, ``op`` one of ``= < <= > >= in is_null not_null``."""

    column: str
    op: str
    values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class AllOf:
    """Every part holds."""

    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds."""

    parts: tuple[Cond, ...]


Cond: TypeAlias = Leaf | AllOf | AnyOf
#: Maps a column of the SQL to the table column it reads, or None when it may be something else.
ColumnOf: TypeAlias = Callable[["exp.Column"], str | None]


def all_of(parts: Iterable[Cond | None]) -> Cond | None:
    """The conjunction of the known parts (unknown parts dropped); None when nothing is known."""
    known = tuple(q for p in parts if p is not None for q in (p.parts if isinstance(p, AllOf) else (p,)))
    if not known:
        return None
    return known[0] if len(known) == 1 else AllOf(known)


def any_of(parts: Iterable[Cond | None]) -> Cond | None:
    """The disjunction of the parts; None (unknown) as soon as one part is unknown."""
    listed = tuple(parts)
    if not listed or any(p is None for p in listed):
        return None
    known = tuple(q for p in listed if p is not None for q in (p.parts if isinstance(p, AnyOf) else (p,)))
    return known[0] if len(known) == 1 else AnyOf(known)


def condition(node: exp.Expr, column_of: ColumnOf, strings: bool) -> Cond | None:
    """The known part of a boolean sqlglot expression.

    Args:
        node: A WHERE / PREWHERE condition.
        column_of: Resolves a column reference to a column of the table, or None.
        strings: False when string literals cannot be trusted to read as sqlglot decoded them (the SQL
            holds backslash escapes): then no string or date literal is taken.
    """
    from sqlglot import exp

    while type(node) is exp.Paren:
        node = node.this
    kind = type(node)
    if kind is exp.And:
        return all_of(condition(p, column_of, strings) for p in (node.this, node.expression))
    if kind is exp.Or:
        return any_of(condition(p, column_of, strings) for p in (node.this, node.expression))
    comparisons: dict[type[exp.Expr], str] = {
        exp.EQ: "=",
        exp.LT: "<",
        exp.LTE: "<=",
        exp.GT: ">",
        exp.GTE: ">=",
    }
    compared = comparisons.get(kind)
    if compared is not None:
        return _comparison(node, compared, column_of, strings)
    if kind is exp.In and _only_args(node, "this", "expressions"):
        return _leaf(node.this, "in", node.expressions, column_of, strings)
    if kind is exp.Between and _only_args(node, "this", "low", "high"):
        return all_of(
            (_leaf(node.this, ">=", [node.args["low"]], column_of, strings),
             _leaf(node.this, "<=", [node.args["high"]], column_of, strings))
        )  # fmt: skip
    if kind is exp.Is and type(node.expression) is exp.Null:
        return _leaf(node.this, "is_null", [], column_of, strings)
    if kind is exp.Not:
        inner = node.this
        while type(inner) is exp.Paren:
            inner = inner.this
        if type(inner) is exp.Is and type(inner.expression) is exp.Null:
            return _leaf(inner.this, "not_null", [], column_of, strings)
        return None  # a negation is not monotone
    if kind is exp.Anonymous and len(node.expressions) == 1:
        name = str(node.this).lower()
        if name in ("isnull", "isnotnull"):
            op = "is_null" if name == "isnull" else "not_null"
            return _leaf(node.expressions[0], op, [], column_of, strings)
    return None


def _only_args(node: exp.Expr, *names: str) -> bool:
    return all(k in names for k, v in node.args.items() if v)


def _comparison(node: exp.Expr, op: str, column_of: ColumnOf, strings: bool) -> Cond | None:
    from sqlglot import exp

    left, right = node.this, node.expression
    if type(left) is exp.Column:
        return _leaf(left, op, [right], column_of, strings)
    if type(right) is exp.Column:
        return _leaf(right, _FLIPPED[op], [left], column_of, strings)
    return None


def _leaf(
    column: exp.Expr, op: str, literals: list[exp.Expr], column_of: ColumnOf, strings: bool
) -> Cond | None:
    from sqlglot import exp

    if type(column) is not exp.Column:
        return None
    name = column_of(column)
    if name is None:
        return None
    if op in ("is_null", "not_null"):
        return Leaf(name, op)
    values = [literal_value(lit, strings) for lit in literals]
    if not values or any(v is None for v in values):
        return None
    return Leaf(name, op, tuple(v for v in values if v is not None))


def literal_value(node: exp.Expr, strings: bool = True) -> Value | None:
    """The value of a literal expression, or None when it is not a literal taken here."""
    from sqlglot import exp

    kind = type(node)
    if kind is exp.Literal:
        if node.is_string:
            return Value("str", str(node.this)) if strings else None
        return _number(str(node.this), negative=False)
    if kind is exp.Neg and type(node.this) is exp.Literal and not node.this.is_string:
        return _number(str(node.this.this), negative=True)
    if kind is exp.Boolean:
        return Value("bool", bool(node.this))
    if not strings:
        return None
    if kind is exp.Cast and _only_args(node, "this", "to", "_type"):
        return _cast_value(node)
    if kind is exp.Anonymous:
        return _function_value(str(node.this).lower(), node.expressions)
    return None


def _number(text: str, negative: bool) -> Value | None:
    sign = -1 if negative else 1
    if _INT_RE.fullmatch(text):
        number = sign * int(text)
        # Wider literals are other ClickHouse types (UInt64, Int128): no Iceberg column compares to them.
        return Value("int", number) if -_INT64 <= number < _INT64 else None
    if _FLOAT_RE.fullmatch(text):
        real = sign * float(text)
        return Value("float", real) if math.isfinite(real) else None
    return None


def _string(node: exp.Expr) -> str | None:
    from sqlglot import exp

    return str(node.this) if type(node) is exp.Literal and node.is_string else None


def _cast_value(node: exp.Expr) -> Value | None:
    from sqlglot import exp

    text, to = _string(node.this), node.args.get("to")
    if text is None or type(to) is not exp.DataType or not _only_args(to, "this", "_type"):
        return None
    dtype = to.this
    T = exp.DataType.Type
    if dtype is T.DATE:
        return _date(text, DATE_YEARS)
    if dtype is T.DATE32:
        return _date(text, DATE32_YEARS)
    if dtype in (T.DATETIME, T.TIMESTAMP):  # read in the session time zone
        return _datetime(text, 0, DATETIME_YEARS, utc=False)
    if dtype is T.DATETIME64:  # DateTime64 defaults to 3 digits
        return _datetime(text, 3, DATETIME64_YEARS, utc=False)
    return None


def _function_value(name: str, args: list[exp.Expr]) -> Value | None:
    text = _string(args[0]) if args else None
    if text is None:
        return None
    if name in ("todate", "todate32") and len(args) == 1:
        return _date(text, DATE_YEARS if name == "todate" else DATE32_YEARS)
    zone: list[exp.Expr] = []
    if name == "todatetime" and len(args) <= 2:
        digits, years, zone = 0, DATETIME_YEARS, args[1:]
    elif name == "todatetime64" and len(args) in (2, 3):
        precision = literal_value(args[1])
        if precision is None or precision.kind != "int" or not 0 <= int(precision.value) <= 9:
            return None
        digits, years, zone = min(int(precision.value), 6), DATETIME64_YEARS, args[2:]
    else:
        return None
    if zone and _string(zone[0]) != "UTC":
        return None
    return _datetime(text, digits, years, utc=bool(zone))


def _date(text: str, years: tuple[int, int]) -> Value | None:
    days = date_days(text, years)
    return None if days is None else Value("date", days)


def _datetime(text: str, digits: int, years: tuple[int, int], utc: bool) -> Value | None:
    micros = datetime_micros(text, digits, years)
    return None if micros is None else Value("datetime", micros, utc=utc)


def date_days(text: str, years: tuple[int, int]) -> int | None:
    """Days since 1970-01-01 of an exact ``YYYY-MM-DD`` within ``years``, else None."""
    m = _DATE_RE.fullmatch(text)
    if not m:
        return None
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    if not years[0] <= day.year <= years[1]:
        return None
    return (day - _EPOCH.date()).days


def datetime_micros(text: str, digits: int, years: tuple[int, int]) -> int | None:
    """Microseconds since 1970-01-01 00:00 of ``YYYY-MM-DD[ hh:mm:ss[.f]]``, else None.

    At most ``digits`` fraction digits, ``T`` allowed as separator, the year within ``years``.
    """
    m = _DATETIME_RE.fullmatch(text)
    if not m:
        return None
    fraction = m.group(7) or ""
    if len(fraction) > digits:
        return None  # the engine would truncate it
    try:
        stamp = dt.datetime(
            int(m.group(1)), int(m.group(2)), int(m.group(3)),
            int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )  # fmt: skip
    except ValueError:
        return None
    if not years[0] <= stamp.year <= years[1]:
        return None
    delta = stamp - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
