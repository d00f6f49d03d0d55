"""One-line check specs: ``silver.sales not_null(id) unique(id) row_count(>0) fresh(order_ts, 24h)``.

The first word names the table; each shortcut after it becomes a :class:`~.model.Check` whose SQL returns
the rows violating it. Arguments are read by a small tokenizer (no ``eval``): column names (bare, or
quoted with backticks or double quotes), lists of string and number literals in ``[...]``, a comparison
(``>0``, ``>= 100``) and a duration (``30m``, ``24h``, ``7d``). Every name and value reaches the SQL through
:func:`~ratatouille.sqltext.quote_identifier` and :func:`~ratatouille.sqltext.quote_literal`.

What each shortcut returns:

* ``not_null(a[, b...])``: the rows where one of the columns is NULL;
* ``unique(a[, b...])``: each key (NULLs left out: ``not_null`` checks them) held by more than one row,
  with its ``duplicates``, most duplicated first;
* ``accepted_values(col, ['x', 'y'])``: the rows whose value is not in the list; NULL is accepted (add
  ``not_null(col)`` to refuse it);
* ``row_count(>0)`` (``>``, ``>=``, ``<``, ``<=``, ``=``, ``!=``): one row, ``row_count``, when the table's
  row count does not satisfy the condition;
* ``fresh(col, 24h)`` (``s``, ``m``, ``h``, ``d``, ``w``): one row, ``latest`` (the column's maximum), when
  it is older than now minus the interval, NULL, or the table is empty.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InvalidInput
from ..sqltext import TableRef, quote_identifier, quote_literal
from .model import Check, validate_severity

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>`(?:[^`\\]|\\.|``)*`|"(?:[^"\\]|\\.|"")*")
  | (?P<duration>\d+(?:\.\d+)?[smhdw](?![A-Za-z0-9_]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z_]))
  | (?P<op>>=|<=|!=|<>|==|=|>|<)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "==": "=", "!=": "!=", "<>": "!="}


@dataclass(frozen=True)
class Token:
    """One token of a spec: its kind (``string``, ``quoted``, ``number``...), text and value."""

    kind: str
    text: str
    value: object


def tokenize(text: str) -> list[Token]:
    """The tokens of a spec's shortcuts.

    Raises:
        InvalidInput: A character that starts no token (an unclosed quote, a stray symbol).
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            near = text[pos : pos + 20]
            raise InvalidInput(
                f"cannot read the check spec at {near!r} (an unclosed quote or a stray symbol?)"
            )
        kind = m.lastgroup or ""
        raw = m.group()
        pos = m.end()
        if kind == "ws":
            continue
        value: object = raw
        if kind in ("string", "quoted"):
            value = _unquote(raw)
        elif kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
        tokens.append(Token(kind, raw, value))
    return tokens


def _unquote(raw: str) -> str:
    quote, body = raw[0], raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
        elif c == quote:  # a doubled quote
            out.append(c)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Shortcut:
    """One shortcut as written: its name, its arguments (each a list of tokens) and its text."""

    name: str
    args: list[list[Token]]
    text: str


def split_spec(spec: str) -> tuple[str, list[Shortcut]]:
    """The table of a spec and its shortcuts, as written.

    Raises:
        InvalidInput: No table, no shortcut, or a shortcut that is not ``name(arguments)``.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInput("the check spec is empty: write 'namespace.table not_null(id) unique(id) ...'")
    table, _, rest = spec.strip().partition(" ")
    ref = TableRef.parse(table)
    if ref.is_pinned:
        raise InvalidInput(f"{table}: checks read the session's branch; name the table without '@...'")
    tokens = tokenize(rest)
    if not tokens:
        raise InvalidInput(f"no check for {ref.identifier}: add shortcuts such as not_null(id) unique(id)")
    shortcuts: list[Shortcut] = []
    i = 0
    while i < len(tokens):
        head = tokens[i]
        if head.kind != "ident" or i + 1 >= len(tokens) or tokens[i + 1].text != "(":
            raise InvalidInput(f"expected a check such as not_null(id), got {head.text!r}")
        depth, j = 0, i + 1
        args: list[list[Token]] = [[]]
        while j < len(tokens):
            t = tokens[j]
            if t.text in "([" and t.kind == "punct":
                depth += 1
                if depth > 1:
                    args[-1].append(t)
            elif t.text in ")]" and t.kind == "punct":
                depth -= 1
                if depth == 0:
                    break
                args[-1].append(t)
            elif t.text == "," and t.kind == "punct" and depth == 1:
                args.append([])
            else:
                args[-1].append(t)
            j += 1
        if j >= len(tokens):
            raise InvalidInput(f"{_shown(tokens[i:j])}: the parenthesis is not closed")
        if args == [[]]:
            args = []
        shortcuts.append(Shortcut(head.text, args, _shown(tokens[i : j + 1])))
        i = j + 1
    return ref.identifier, shortcuts


def _shown(tokens: list[Token]) -> str:
    """Tokens back to text, with a space after commas."""
    return "".join(t.text + (" " if t.text == "," and t.kind == "punct" else "") for t in tokens)


def parse_spec(spec: str, severity: str = "error") -> list[Check]:
    """The checks of a one-line spec (see the module's docstring).

    Raises:
        InvalidInput: An unknown shortcut, malformed arguments or an invalid severity, naming the shortcut.
    """
    severity = validate_severity(severity)
    table, shortcuts = split_spec(spec)
    checks = []
    for shortcut in shortcuts:
        build = _BUILDERS.get(shortcut.name)
        if build is None:
            close = difflib.get_close_matches(shortcut.name, list(_BUILDERS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            known = ", ".join(f"{n}(...)" for n in _BUILDERS)
            raise InvalidInput(f"unknown check {shortcut.text}{hint}; checks are: {known}")
        checks.append(build(shortcut, table, severity))
    return checks


# -- arguments ------------------------------------------------------------------------------------------


def _column(shortcut: Shortcut, arg: list[Token]) -> str:
    if len(arg) != 1 or arg[0].kind not in ("ident", "quoted") or not arg[0].value:
        shown = _shown(arg) or "nothing"
        raise InvalidInput(f"{shortcut.text}: expected a column name, got {shown}")
    return str(arg[0].value)


def _columns(shortcut: Shortcut) -> list[str]:
    if not shortcut.args:
        raise InvalidInput(f"{shortcut.text}: name at least one column, e.g. {shortcut.name}(id)")
    return [_column(shortcut, arg) for arg in shortcut.args]


def _values(shortcut: Shortcut, args: list[list[Token]]) -> list[object]:
    """``['a', 'b']`` (one list argument) or ``'a', 'b'`` (several literal arguments)."""
    tokens = args[0][1:-1] if len(args) == 1 and args[0] and args[0][0].text == "[" else None
    items: list[list[Token]] = []
    if tokens is not None:
        if args[0][-1].text != "]":
            raise InvalidInput(f"{shortcut.text}: the list of values is not closed with ]")
        current: list[Token] = []
        for t in tokens:
            if t.kind == "punct" and t.text == ",":
                items.append(current)
                current = []
            else:
                current.append(t)
        items.append(current)
    else:
        items = args
    values = []
    for item in items:
        if len(item) != 1 or item[0].kind not in ("string", "number"):
            raise InvalidInput(
                f"{shortcut.text}: the accepted values are string or number literals, "
                f"e.g. ['north', 'south'], got {_shown(item) or 'nothing'}"
            )
        values.append(item[0].value)
    if not values:
        raise InvalidInput(f"{shortcut.text}: the list of accepted values is empty")
    return values


def _duration_seconds(shortcut: Shortcut, arg: list[Token]) -> int:
    if len(arg) != 1 or arg[0].kind != "duration":
        raise InvalidInput(
            f"{shortcut.text}: expected a duration such as 30m, 24h or 7d, got {_shown(arg) or 'nothing'}"
        )
    text = arg[0].text
    seconds = int(float(text[:-1]) * _UNITS[text[-1]])
    if seconds <= 0:
        raise InvalidInput(f"{shortcut.text}: the duration must be positive")
    return seconds


# -- the shortcuts --------------------------------------------------------------------------------------


def _ref(table: str) -> str:
    return "{" + table + "}"


def not_null(shortcut: Shortcut, table: str, severity: str) -> Check:
    """Rows where one of the columns is NULL."""
    cols = _columns(shortcut)
    where = " OR ".join(f"{quote_identifier(c)} IS NULL" for c in cols)
    sql = f"SELECT * FROM {_ref(table)} WHERE {where}"
    return Check(f"not_null({', '.join(cols)})", table, severity, sql, tuple(cols))


def unique(shortcut: Shortcut, table: str, severity: str) -> Check:
    """Keys held by more than one row (NULL keys left out), with their count, most duplicated first."""
    cols = _columns(shortcut)
    keys = ", ".join(quote_identifier(c) for c in cols)
    not_null_keys = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in cols)
    sql = (
        f"SELECT {keys}, count() AS `duplicates` FROM {_ref(table)} WHERE {not_null_keys} "
        f"GROUP BY {keys} HAVING count() > 1 ORDER BY `duplicates` DESC, {keys}"
    )
    return Check(f"unique({', '.join(cols)})", table, severity, sql, tuple(cols))


def accepted_values(shortcut: Shortcut, table: str, severity: str) -> Check:
    """Rows whose value is not in the list (NULL is accepted)."""
    if len(shortcut.args) < 2:
        raise InvalidInput(f"{shortcut.text}: write accepted_values(column, ['a', 'b'])")
    col = _column(shortcut, shortcut.args[0])
    values = _values(shortcut, shortcut.args[1:])
    q = quote_identifier(col)
    listed = ", ".join(quote_literal(v) for v in values)
    sql = f"SELECT * FROM {_ref(table)} WHERE {q} IS NOT NULL AND {q} NOT IN ({listed})"
    return Check(f"accepted_values({col})", table, severity, sql, (col,))


def row_count(shortcut: Shortcut, table: str, severity: str) -> Check:
    """One row with the table's row count when the condition does not hold."""
    arg = shortcut.args[0] if len(shortcut.args) == 1 else []
    ok = len(arg) == 2 and arg[0].kind == "op" and arg[1].kind == "number"
    if not ok or not isinstance(arg[1].value, int) or arg[1].value < 0:
        raise InvalidInput(
            f"{shortcut.text}: expected a comparison with a row count, e.g. row_count(>0) or row_count(>=100)"
        )
    op, n = _OPS[arg[0].text], arg[1].value
    sql = (
        f"SELECT `row_count` FROM (SELECT count() AS `row_count` FROM {_ref(table)}) "
        f"WHERE NOT (`row_count` {op} {quote_literal(n)})"
    )
    return Check(f"row_count({op}{n})", table, severity, sql)


def fresh(shortcut: Shortcut, table: str, severity: str) -> Check:
    """One row with the column's latest value when it is older than now minus the interval (or none)."""
    if len(shortcut.args) != 2:
        raise InvalidInput(f"{shortcut.text}: write fresh(time_column, 24h)")
    col = _column(shortcut, shortcut.args[0])
    seconds = _duration_seconds(shortcut, shortcut.args[1])
    q = quote_identifier(col)
    sql = (
        f"SELECT `latest` FROM (SELECT max({q}) AS `latest`, count() AS `row_count` FROM {_ref(table)}) "
        f"WHERE `row_count` = 0 OR `latest` IS NULL OR `latest` < now() - INTERVAL {int(seconds)} SECOND"
    )
    interval = shortcut.args[1][0].text
    return Check(f"fresh({col}, {interval})", table, severity, sql, (col,), time_columns=(col,))


_BUILDERS: dict[str, Callable[[Shortcut, str, str], Check]] = {
    "not_null": not_null,
    "unique": unique,
    "accepted_values": accepted_values,
    "row_count": row_count,
    "fresh": fresh,
}
