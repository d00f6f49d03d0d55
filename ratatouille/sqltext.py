r"""SQL text: the one quoting helper and the ``{namespace.table}`` reference syntax.

Nothing here executes SQL. Identifiers and literals reach SQL only through :func:`quote_identifier` and
:func:`quote_literal`; table references are found with :func:`find_references`, which skips string
literals, quoted identifiers and comments, and only takes ``{ident.ident}`` (optionally ``@ref``), so a
regex such as ``\d{4}`` or a single ``{name}`` placeholder is left alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import InvalidInput

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_IDENT_RE = re.compile(rf"^{_IDENT}$")
# A ref after "@": a branch/tag name (letters, digits, _ - . /), a snapshot id, or an ISO time.
_REF = r"[A-Za-z0-9_][A-Za-z0-9_./:+-]*(?:[ T][0-9:.+-]+)?"
_REFERENCE_RE = re.compile(rf"\{{\s*({_IDENT})\.({_IDENT})(?:@({_REF}))?(?:@({_REF}))?\s*\}}")
#: The suffix of an incremental read: ``{ns.t@new}`` reads the rows the write's target has not consumed.
NEW = "new"
_PARAM_RE = re.compile(rf"\{{\s*({_IDENT})\s*\}}")
_ISO_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_BRANCH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$")


def quote_identifier(name: str) -> str:
    """Quote one identifier for ClickHouse SQL (backticks, backslash escapes)."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"invalid identifier: {name!r}")
    escaped = name.replace("\\", "\\\\").replace("`", "\\`")
    return f"`{escaped}`"


def quote_literal(value: object) -> str:
    """Render a Python value as a ClickHouse SQL literal.

    Strings are single-quoted with backslash escapes; None is NULL; bools, ints and floats are written
    as numbers; dates and datetimes as typed literals.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"toDateTime64({quote_literal(value.isoformat(sep=' '))}, 6)"
    if isinstance(value, dt.date):
        return f"toDate32({quote_literal(value.isoformat())})"
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def validate_identifier(name: str, what: str = "name") -> str:
    """Check a namespace, table or column name: letters, digits and underscores, not starting with a digit."""
    if not isinstance(name, str) or not _IDENT_RE.match(name):
        raise InvalidInput(
            f"invalid {what} {name!r}: use letters, digits and underscores, not starting with a digit"
        )
    return name


def validate_branch_name(name: str) -> str:
    """Check a branch or tag name: what Iceberg and a URL path allow."""
    if not isinstance(name, str) or not _BRANCH_RE.match(name) or ".." in name or name.endswith(("/", ".")):
        raise InvalidInput(
            f"invalid branch name {name!r}: use letters, digits, '_', '-', '.', '/' (at most 200 characters)"
        )
    if name == NEW:
        raise InvalidInput(f"{NEW!r} cannot name a branch: '{{ns.t@{NEW}}}' reads a table's new rows")
    return name


@dataclass(frozen=True)
class TableRef:
    """A reference to one Iceberg table, optionally at a ref (branch or tag), snapshot id or time.

    Attributes:
        namespace: The namespace (``bronze``, ``silver``...).
        name: The table name.
        ref: A branch or tag name, or None for the session's active ref.
        snapshot_id: A pinned snapshot id, or None.
        as_of: A point in time (the snapshot current then), or None.
        new: ``@new``: only the rows that arrived since the write's target last consumed the table.
    """

    namespace: str
    name: str
    ref: str | None = None
    snapshot_id: int | None = None
    as_of: dt.datetime | None = None
    new: bool = False

    @property
    def identifier(self) -> str:
        """``namespace.name``."""
        return f"{self.namespace}.{self.name}"

    @property
    def is_pinned(self) -> bool:
        """True when the reference names a ref, snapshot, time or ``@new`` rather than the active branch."""
        return self.ref is not None or self.snapshot_id is not None or self.as_of is not None or self.new

    def __str__(self) -> str:
        suffix = ""
        if self.ref is not None:
            suffix = f"@{self.ref}"
        elif self.snapshot_id is not None:
            suffix = f"@{self.snapshot_id}"
        elif self.as_of is not None:
            suffix = f"@{self.as_of.isoformat()}"
        elif self.new:
            suffix = f"@{NEW}"
        return f"{self.identifier}{suffix}"

    @classmethod
    def parse(cls, text: str) -> TableRef:
        """Parse ``ns.t``, ``{ns.t}``, ``ns.t@branch``, ``ns.t@<snapshot id>`` or ``ns.t@<ISO time>``.

        Raises:
            InvalidInput: The text is not a table reference.
        """
        if not isinstance(text, str):
            raise InvalidInput(f"a table is named 'namespace.table', got {type(text).__name__}")
        stripped = text.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            stripped = stripped[1:-1].strip()
        match = _REFERENCE_RE.fullmatch("{" + stripped + "}")
        if not match:
            raise InvalidInput(
                f"invalid table name {text!r}: write 'namespace.table' (for example 'bronze.sales')"
            )
        return _ref_from_match(match)


def _ref_from_match(match: re.Match[str]) -> TableRef:
    namespace, name, at, second = match.group(1), match.group(2), match.group(3), match.group(4)
    if second is not None:
        if NEW in (at, second):
            raise InvalidInput(
                f"invalid reference {match.group(0)!r}: '@{NEW}' takes no branch, snapshot or time; write "
                f"{{{namespace}.{name}@{NEW}}} (it reads the session's branch)"
            )
        raise InvalidInput(f"invalid reference {match.group(0)!r}: use one '@' suffix at most")
    if at is None:
        return TableRef(namespace, name)
    if at == NEW:
        return TableRef(namespace, name, new=True)
    if at.isdigit():
        return TableRef(namespace, name, snapshot_id=int(at))
    if _ISO_TIME_RE.match(at):
        stamp = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return TableRef(namespace, name, as_of=stamp)
    return TableRef(namespace, name, ref=validate_branch_name(at))


@dataclass(frozen=True)
class Found:
    """One ``{...}`` placeholder found in SQL text: its span and what it names."""

    start: int
    end: int
    table: TableRef | None = None
    param: str | None = None


def _code_spans(sql: str) -> Iterator[tuple[int, int]]:
    """Yield the spans of ``sql`` that are code: outside string literals, quoted names and comments."""
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c in "'\"`":
            yield start, i
            i += 1
            while i < n and sql[i] != c:
                i += 2 if sql[i] == "\\" else 1
            i += 1
            start = i
        elif sql.startswith("--", i):
            yield start, i
            nl = sql.find("\n", i)
            i = n if nl < 0 else nl
            start = i
        elif sql.startswith("/*", i):
            yield start, i
            close = sql.find("*/", i + 2)
            i = n if close < 0 else close + 2
            start = i
        else:
            i += 1
    yield start, n


def find_placeholders(sql: str, *, params: bool = False) -> list[Found]:
    """Find table references (and, with ``params=True``, ``{name}`` parameters) in code spans of ``sql``."""
    found: list[Found] = []
    for a, b in _code_spans(sql):
        segment = sql[a:b]
        for m in _REFERENCE_RE.finditer(segment):
            found.append(Found(a + m.start(), a + m.end(), table=_ref_from_match(m)))
        if params:
            for m in _PARAM_RE.finditer(segment):
                found.append(Found(a + m.start(), a + m.end(), param=m.group(1)))
    found.sort(key=lambda f: f.start)
    return found


def find_references(sql: str) -> list[TableRef]:
    """The table references of ``sql``, in order of appearance (duplicates kept)."""
    return [f.table for f in find_placeholders(sql) if f.table is not None]


def has_references(sql: str) -> bool:
    """True when ``sql`` holds at least one ``{ns.t}`` reference."""
    return bool(find_placeholders(sql))


def substitute(sql: str, found: list[Found], render: Callable[[Found], str]) -> str:
    """Replace each placeholder span of ``found`` by ``render(placeholder)``."""
    out: list[str] = []
    pos = 0
    for f in found:
        out.append(sql[pos : f.start])
        out.append(render(f))
        pos = f.end
    out.append(sql[pos:])
    return "".join(out)


# Words that may follow a table in FROM without being its alias.
_CLAUSE_WORDS = frozenset((
    "WHERE", "PREWHERE", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER", "SEMI", "ANTI",
    "ANY", "ALL", "ASOF", "PASTE", "GLOBAL", "ARRAY", "ON", "USING", "GROUP", "ORDER", "LIMIT", "OFFSET",
    "FETCH", "HAVING", "WINDOW", "QUALIFY", "UNION", "EXCEPT", "INTERSECT", "SETTINGS", "FORMAT",
    "FINAL", "SAMPLE", "INTO", "WITH",
))  # fmt: skip
_BEFORE_TABLE_RE = re.compile(r"(?:\bFROM|\bJOIN|,)\s*$", re.IGNORECASE)
_NEXT_WORD_RE = re.compile(rf"\s*({_IDENT}|`|\")")


def needs_alias(sql: str, found: Found) -> bool:
    """True when the reference ``found`` stands as a table in FROM or JOIN and no alias follows it.

    A reference becomes a subquery, and the engine requires an alias on a joined subquery; given the
    table's own name, ``{bronze.sales}`` reads like a table (``sales.id``) in every position.
    """
    if not _BEFORE_TABLE_RE.search(sql[max(0, found.start - 16) : found.start]):
        return False
    m = _NEXT_WORD_RE.match(sql, found.end)
    if m is None:
        return True  # a comma, a parenthesis, the end
    word = m.group(1)
    return word not in ("`", '"') and word.upper() != "AS" and word.upper() in _CLAUSE_WORDS


def line_of(sql: str, offset: int) -> int:
    """The 1-based line number of a character offset."""
    return sql.count("\n", 0, max(0, offset)) + 1
