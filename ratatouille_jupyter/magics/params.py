"""Notebook variables in SQL, bound as query parameters (never pasted into the SQL text).

``{min_qty}`` (one identifier in braces) names a notebook variable: it becomes the server-side placeholder
``{min_qty:Int64}``, with the type taken from the Python value, and the value travels separately. A
value holding quotes or SQL cannot change the query. ``{min_qty:Int32}`` (a ClickHouse placeholder
with its type) binds the variable with that type. ``{ns.t}`` (a dot) stays a table reference. Braces
inside string literals and comments are left alone.
"""

from __future__ import annotations

import datetime as dt
import decimal
import numbers
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError

from ratatouille.sqltext import _code_spans, find_placeholders, line_of

# A ClickHouse placeholder written with its type: {name:Type}.
_TYPED_RE = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1


@dataclass
class BoundSQL:
    """SQL whose notebook variables became typed placeholders.

    Attributes:
        sql: The SQL with ``{name:Type}`` placeholders (table references untouched).
        parameters: The values, by placeholder name.
        types: The ClickHouse type of each placeholder.
    """

    sql: str
    parameters: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


def bind_variables(sql: str, namespace: Mapping[str, Any]) -> BoundSQL:
    """Turn each ``{name}`` of ``sql`` into a typed placeholder bound to the notebook variable ``name``.

    Raises:
        UsageError: A name is not a notebook variable, or its value cannot be a SQL value.
    """
    bound = BoundSQL(sql=sql)
    spans = list(_code_spans(sql))
    for m in _TYPED_RE.finditer(sql):
        # Only the opening brace must be code: a type may hold a literal, as in DateTime64(6, 'UTC').
        if any(a <= m.start() < b for a, b in spans):
            name, declared = m.group(1), m.group(2)
            bound.parameters[name] = _lookup(name, namespace, sql, m.start())
            bound.types[name] = declared
    pieces: list[str] = []
    pos = 0
    for found in find_placeholders(sql, params=True):
        if found.param is None:
            continue
        name = found.param
        value = _lookup(name, namespace, sql, found.start)
        ch_type = bound.types.get(name) or clickhouse_type(name, value)
        bound.parameters[name], bound.types[name] = value, ch_type
        pieces += [sql[pos : found.start], f"{{{name}:{ch_type}}}"]
        pos = found.end
    bound.sql = "".join([*pieces, sql[pos:]])
    return bound


def clickhouse_type(name: str, value: Any) -> str:
    """The ClickHouse type a Python value is bound as.

    Raises:
        UsageError: The value has no SQL counterpart (a DataFrame, a function...).
    """
    if value is None:
        return "Nullable(String)"
    value = _plain(value)
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, numbers.Integral):
        number = int(value)
        if _INT64[0] <= number <= _INT64[1]:
            return "Int64"
        if 0 <= number <= _UINT64_MAX:
            return "UInt64"
        return "Int256"
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        scale = min(38, -exponent) if isinstance(exponent, int) and exponent < 0 else 0
        return f"Decimal(38, {scale})"
    if isinstance(value, numbers.Real):
        return "Float64"
    if isinstance(value, str | bytes):
        return "String"
    if isinstance(value, dt.datetime):
        return "DateTime64(6, 'UTC')" if value.tzinfo is not None else "DateTime64(6)"
    if isinstance(value, dt.date):
        return "Date32"
    if isinstance(value, uuid.UUID):
        return "UUID"
    if isinstance(value, list | tuple | set | frozenset):
        items = [v for v in value if v is not None]
        inner = {clickhouse_type(name, v) for v in items} or {"String"}
        if len(inner) > 1 and inner <= {"Int64", "UInt64", "Float64"}:
            inner = {"Float64"}
        if len(inner) > 1:
            raise UsageError(f"{{{name}}}: the items of the list mix types ({', '.join(sorted(inner))})")
        element = inner.pop()
        return f"Array({f'Nullable({element})' if len(items) < len(value) else element})"
    kind = type(value).__name__
    if hasattr(value, "columns") and hasattr(value, "shape"):
        raise UsageError(
            f"{{{name}}} is a {kind}, not a value: make it a table with rat.temp({name!r}, {name}) "
            f"and write {{temp.{name}}}"
        )
    raise UsageError(f"{{{name}}} is a {kind}: only numbers, text, dates, UUIDs and lists can be bound")


def _plain(value: Any) -> Any:
    """NumPy scalars as Python ones (numpy is not imported for this)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def _lookup(name: str, namespace: Mapping[str, Any], sql: str, offset: int) -> Any:
    if name not in namespace:
        raise UsageError(
            f"{{{name}}} on line {line_of(sql, offset)}: there is no notebook variable {name!r} "
            "(a {name} is a Python value bound as a parameter; a table is written {namespace.table})"
        )
    value = namespace[name]
    return _plain(value) if value is not None else None
