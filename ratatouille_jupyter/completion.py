"""Completion in the kernel: tables, columns, ClickHouse functions, keywords and notebook variables.

* Where a table is expected, table names: inside ``{`` in ``%%rat_sql`` / ``%%rat_check`` cells and in
  ``rat.*("...")`` strings, in a ``rat.df("...")``-like first argument, after ``target=`` / ``table=``,
  and as the table argument of ``%rat_history``, ``%rat_ingest``, ``%rat_doc`` and ``%rat_check``.
* Inside ``{`` in a SQL cell, a partial name without a dot also completes as a notebook variable (bound
  as a query parameter), with the ClickHouse type it binds as.
* Elsewhere in the SQL of a ``%%rat_sql`` / ``%%rat_check`` cell (or ``%rat_sql`` / ``%rat_check``
  line), a word completes as a column of the tables the cell references (its type shown), a ClickHouse
  function or a keyword; after ``alias.`` as a column only.

Nothing here starts the engine. Table names come from the catalog, cached for a few seconds and dropped
after each cell run; schemas are loaded for the referenced tables only, one at a time, and kept while
the table's metadata location is unchanged (one indexed catalog query per referenced table; other
catalogs: for a few seconds). The functions are a static list (:mod:`.sqlwords`).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.completer import CompletionContext, SimpleCompletion, SimpleMatcherResult, context_matcher

from ratatouille.sqltext import _code_spans, find_references

from .sqlwords import KEYWORDS, functions_starting

if TYPE_CHECKING:
    from ratatouille.documenting import TableDoc

_CACHE_S = 5.0
_RECHECK_S = 1.0  # a schema is trusted this long without asking the catalog, unless a cell ran since
_SCHEMAS_KEPT = 256
_PARTIAL = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)?)?"
_IN_BRACE = re.compile(r"\{\s*" + _PARTIAL + r"$")
_AFTER_TARGET = re.compile(r"^%%?rat_(?:sql\b.*\btarget=|check\b.*\btable=)" + _PARTIAL + r"$")
_TABLE_ARG = re.compile(
    r"^%rat_(?:history\s+|ingest\s+\S+\s+|doc\s+|check\s+(?:[A-Za-z_]+=\S*\s+)*)" + _PARTIAL + r"$"
)
_SQL_CELL = re.compile(r"%%rat_(sql|check)\b([^\n]*)\n")
_SQL_LINE = re.compile(r"\s*%rat_(sql|check)\s+")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_WORD = re.compile(r"(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)?$")
# A call of the SDK whose first argument is a table (or SQL with references), with its string open.
_RAT_CALL = re.compile(
    r"\brat\.(?:df|query|arrow|transform|transform_preview|t|ice_read|ice_history|ice_time_travel|"
    r"ice_location|ice_drop|dev_diff)\(\s*(?:sql\s*=\s*)?[rfb]?(\"\"\"|'''|\"|')"
)
_RAT_STRING_TABLE = re.compile(_PARTIAL + r"$")
#: The shortcuts of a ``%rat_check`` line (ratatouille.checks.shortcuts).
CHECK_SHORTCUTS = ("not_null", "unique", "accepted_values", "row_count", "fresh")
# Names of the namespace that are not the user's variables.
_NOT_VARIABLES = frozenset(("In", "Out", "exit", "quit", "get_ipython", "rat"))
_LONG_SEQUENCE = 1000


class TableNames:
    """``namespace.table`` names of the lakehouse (and the session's ``temp.*``), briefly cached."""

    def __init__(self, rat: Any) -> None:
        self._rat = rat
        self._names: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._at = -_CACHE_S - 1.0

    def get(self) -> list[str]:
        """All names, sorted."""
        now = time.monotonic()
        if now - self._at > _CACHE_S:
            try:
                names = self._list()
                names += [f"temp.{t}" for t in self._rat.temp_list()]
            except Exception:  # a broken catalog must not break typing: complete nothing
                names = []
            self._names, self._known, self._at = sorted(names), frozenset(names), now
        return self._names

    def known(self, name: str) -> bool:
        """True when ``name`` is a table of the (cached) listing."""
        self.get()
        return name in self._known

    def invalidate(self, *_: Any) -> None:
        """Forget the listing (after a cell ran: it may have created or dropped tables)."""
        self._at = -_CACHE_S - 1.0

    def _list(self) -> list[str]:
        session = self._rat.session
        if session.branch == "main":
            from .server.catalog_index import all_tables, is_sql_catalog

            if is_sql_catalog(session.catalog):  # one query for the whole catalog
                return [f"{ns}.{t}" for ns, t in all_tables(session.catalog)]
        return [f"{ns}.{t}" for ns, tables in self._rat.ice_all().items() for t in tables]


@dataclass(frozen=True)
class TableInfo:
    """What completion and inspection show of a table: its documentation and last snapshot's operation."""

    doc: TableDoc
    operation: str | None


@dataclass
class _Entry:
    stored: tuple[str, str] | None  # the catalog row the table was loaded from (SQL catalogs)
    location: str | None
    checked: float
    info: TableInfo | None
    generation: int = 0


class TableSchemas:
    """Schemas of single tables, loaded on demand and kept while their metadata location is unchanged."""

    def __init__(self, rat: Any) -> None:
        self._rat = rat
        self._items: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._generation = 0

    def info(self, identifier: str) -> TableInfo | None:
        """The table's documentation (columns, types, freshness), or None when it cannot be read."""
        try:
            session = self._rat.session
            catalog, branch = session.catalog, session.branch
        except Exception:
            return None
        key = (branch, identifier)
        entry = self._items.get(key)
        now = time.monotonic()
        if entry is not None and self._current(catalog, entry, now, self._generation):
            self._items.move_to_end(key)
            return entry.info
        entry = self._load(catalog, identifier, branch, now)
        entry.generation = self._generation
        self._items[key] = entry
        self._items.move_to_end(key)
        while len(self._items) > _SCHEMAS_KEPT:
            self._items.popitem(last=False)
        return entry.info

    def clear(self) -> None:
        """Forget every schema."""
        self._items.clear()

    def invalidate(self, *_: Any) -> None:
        """Ask the catalog again on the next use of each schema (after a cell ran: it may have written)."""
        self._generation += 1

    @staticmethod
    def _current(catalog: Any, entry: _Entry, now: float, generation: int) -> bool:
        """True when the entry is still the table's (asking a SQL catalog for its metadata location)."""
        if entry.stored is None or entry.info is None:  # not a SQL catalog, or a failed load: a short TTL
            return entry.generation == generation and now - entry.checked <= _CACHE_S
        if entry.generation == generation and now - entry.checked <= _RECHECK_S:
            return True
        try:
            from .server.catalog_index import _sql_rows

            rows = _sql_rows(catalog, *entry.stored)
        except Exception:
            return False
        if not rows or rows[0][2] != entry.location:
            return False
        entry.checked, entry.generation = now, generation
        return True

    @staticmethod
    def _load(catalog: Any, identifier: str, branch: str, now: float) -> _Entry:
        from ratatouille.catalog import load_table
        from ratatouille.documenting.tabledoc import table_doc

        from .server.catalog_index import is_sql_catalog

        try:
            table = load_table(catalog, identifier, branch)
            doc = table_doc(table, identifier, branch)
        except Exception:
            return _Entry(None, None, now, None)
        operation = None
        if doc.snapshot_id is not None:
            snapshot = table.metadata.snapshot_by_id(doc.snapshot_id)
            if snapshot is not None and snapshot.summary is not None:
                operation = str(snapshot.summary.operation.value)
        stored = None
        if is_sql_catalog(catalog):
            name = tuple(table.name())
            stored = (".".join(name[:-1]), name[-1])
        return _Entry(stored, table.metadata_location, now, TableInfo(doc, operation))


def warm_up() -> None:
    """Import what the first completion needs (pyiceberg's SQL catalog takes most of a second cold).

    Run in a background thread once the ``%load_ext`` cell ended, so that the first Tab answers within
    the front end's patience; it opens nothing (the session is opened by the first request).
    """
    try:
        import pyiceberg.catalog.sql  # noqa: F401

        import ratatouille.catalog
        import ratatouille.documenting.tabledoc  # noqa: F401

        from .server import catalog_index  # noqa: F401
        from .sqlwords import functions_starting

        functions_starting("")
    except Exception:  # only a head start: the request imports what is missing
        return


def table_matcher(
    names: Callable[[], list[str]],
    schemas: TableSchemas | None = None,
    namespace: Callable[[], Mapping[str, Any]] | None = None,
) -> Callable[[CompletionContext], SimpleMatcherResult]:
    """An IPython (API v2) matcher completing table names where a table is expected.

    With ``schemas``, also the SQL words of ``%%rat_sql`` / ``%%rat_check`` cells; with ``namespace``,
    notebook variables inside ``{``.
    """

    @context_matcher()  # type: ignore[untyped-decorator]
    def rat_tables(context: CompletionContext) -> SimpleMatcherResult:
        before = _text_before_cursor(context)
        found = _partial_table(before, context.full_text)
        if found is not None:
            partial, in_sql_cell = found
            after = _text_after_cursor(context)
            close = "}" if _brace_open(before) and not after.lstrip(" ").startswith("}") else ""
            matches = [
                SimpleCompletion(text=n + close, type="table")
                for n in names()
                if n.startswith(partial) or n.split(".", 1)[1].startswith(partial)
            ]
            if in_sql_cell and namespace is not None and "." not in partial:
                matches += [
                    SimpleCompletion(text=name + close, type=f"variable: {kind}")
                    for name, kind in notebook_variables(namespace(), partial)
                ]
            return _result(matches, partial)
        if schemas is None:
            return {"completions": [], "suppress": False}
        return _sql_words(context, before, names, schemas)

    return rat_tables  # type: ignore[no-any-return]


def _result(matches: list[SimpleCompletion], partial: str) -> SimpleMatcherResult:
    return {"completions": matches, "matched_fragment": partial, "suppress": bool(matches), "ordered": True}


def _sql_words(
    context: CompletionContext, before: str, names: Callable[[], list[str]], schemas: TableSchemas
) -> SimpleMatcherResult:
    """Columns, functions and keywords for a word in the SQL of a cell."""
    nothing: SimpleMatcherResult = {"completions": [], "suppress": False}
    found = _sql_context(before, context.full_text, context.line_with_cursor)
    if found is None:
        return nothing
    sql_before, sql, check_table, is_check_line = found
    if not _in_code(sql_before):
        return nothing
    m = _WORD.search(sql_before)
    assert m is not None  # the pattern matches the empty string at the end
    qualifier, partial = m.group(1), m.group(2) or ""
    if m.start() and sql_before[m.start() - 1] in "{@0123456789":
        return nothing
    if not partial and qualifier is None:
        return nothing
    tables = _unique([r.identifier for r in find_references(sql)] + ([check_table] if check_table else []))
    known = set(names())
    columns = [c for t in tables if t in known and not t.startswith("temp.")
               for c in _columns(schemas, t)]  # fmt: skip
    low = partial.lower()
    matches: list[SimpleCompletion] = []
    seen: set[str] = set()

    def add(text: str, kind: str) -> None:
        if text not in seen:
            seen.add(text)
            matches.append(SimpleCompletion(text=text, type=kind))

    if qualifier is not None:
        nested = [(n[len(qualifier) + 1 :], k) for n, k in columns if n.startswith(qualifier + ".")]
        for name, kind in nested or columns:
            if "." not in name and name.lower().startswith(low):
                add(name, f"column: {kind}")
        return _result(matches, partial)
    for name, kind in columns:
        if "." not in name and name.lower().startswith(low):
            add(name, f"column: {kind}")
    if is_check_line:
        for shortcut in CHECK_SHORTCUTS:
            if shortcut.startswith(low):
                add(shortcut, "check")
        return _result(matches, partial)
    for f in functions_starting(partial):
        add(
            _cased(f.name, partial, f.case_insensitive),
            "aggregate function" if f.aggregate else "function",
        )
    for word in KEYWORDS:
        if word.lower().startswith(low):
            add(word.lower() if partial.islower() else word, "keyword")
    return _result(matches, partial)


def _cased(name: str, partial: str, case_insensitive: bool) -> str:
    """The function name as typed: a case-insensitive one follows the case of the partial word."""
    if name.startswith(partial) or not case_insensitive:
        return name
    if partial.isupper():
        return name.upper()
    return name.lower() if partial.islower() else name


def _columns(schemas: TableSchemas, identifier: str) -> list[tuple[str, str]]:
    info = schemas.info(identifier)
    return [] if info is None else [(c.name, c.type) for c in info.doc.columns]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _sql_context(before: str, full_text: str, line: str) -> tuple[str, str, str | None, bool] | None:
    """Where the cursor is in the SQL of a rat cell or line, else None.

    Returns (SQL before the cursor, the whole SQL, the table a ``%rat_check`` line or
    ``%%rat_check table=`` names, whether it is a ``%rat_check`` line).
    """
    text, full = before.lstrip(), full_text.lstrip()
    if (m := _SQL_CELL.match(text)) is not None:
        table = None
        if m.group(1) == "check":
            option = re.search(r"\btable=(\S+)", m.group(2))
            table = option.group(1) if option and _TABLE_NAME.match(option.group(1)) else None
        return text[m.end() :], full[m.end() :], table, False
    current = before.rsplit("\n", 1)[-1]
    if (m := _SQL_LINE.match(current)) is not None:
        whole = line[m.end() :]
        if m.group(1) == "check":
            table = next((w for w in whole.split() if _TABLE_NAME.match(w)), None)
            return current[m.end() :], whole, table, True
        return current[m.end() :], whole, None, False
    return None


def _in_code(sql_before: str) -> bool:
    """True when the end of ``sql_before`` is SQL code (not in a string literal, quoted name or comment)."""
    *_, (start, end) = _code_spans(sql_before)
    return end == len(sql_before) and start < end


def notebook_variables(namespace: Mapping[str, Any], partial: str) -> list[tuple[str, str]]:
    """``(name, ClickHouse type)`` of the notebook variables starting with ``partial`` that can be bound."""
    from IPython.core.error import UsageError

    from .magics.params import clickhouse_type

    found = []
    for name in sorted(namespace):
        if not name.startswith(partial) or name.startswith("_") or name in _NOT_VARIABLES:
            continue
        value = namespace[name]
        if isinstance(value, list | tuple | set | frozenset) and len(value) > _LONG_SEQUENCE:
            found.append((name, "Array"))
            continue
        if callable(value) or isinstance(value, type) or type(value).__name__ == "module":
            continue
        try:
            found.append((name, clickhouse_type(name, value)))
        except (UsageError, TypeError, ValueError):
            continue
    return found


def _partial_table(before: str, full_text: str) -> tuple[str, bool] | None:
    """The table name typed so far where a table is expected (and whether in ``{`` in a SQL cell).

    None when the cursor is not where a table is expected.
    """
    line = before.rsplit("\n", 1)[-1]
    if m := _AFTER_TARGET.match(line) or _TABLE_ARG.match(line):
        return m.group(1) or "", False
    stripped = full_text.lstrip()
    in_rat_sql_cell = (
        (stripped.startswith("%%rat_sql") or stripped.startswith("%%rat_check")) and "\n" in before
    ) or line.lstrip().startswith(("%rat_sql ", "%rat_check "))
    m = _IN_BRACE.search(before)
    if m and in_rat_sql_cell:
        return m.group(1) or "", True
    if m and _inside_rat_string(before[: m.start()]):
        return m.group(1) or "", False
    if (call := _last_rat_call(before)) is not None and "{" not in before[call:]:
        plain = _RAT_STRING_TABLE.search(before[call:])
        if plain is not None and plain.start() == 0:
            return plain.group(1) or "", False
    return None


def _last_rat_call(before: str) -> int | None:
    """Where the open string of the last ``rat.<call>("`` before the cursor starts, if still open."""
    last = None
    for m in _RAT_CALL.finditer(before):
        last = m
    if last is None or last.group(1) in before[last.end() :]:
        return None
    return last.end()


def _inside_rat_string(before: str) -> bool:
    return _last_rat_call(before) is not None


def _brace_open(before: str) -> bool:
    return _IN_BRACE.search(before) is not None


def _text_before_cursor(context: CompletionContext) -> str:
    lines = context.full_text.split("\n")
    head = "\n".join(lines[: context.cursor_line])
    current = lines[context.cursor_line][: context.cursor_position]
    return (head + "\n" if context.cursor_line else "") + current


def _text_after_cursor(context: CompletionContext) -> str:
    return context.line_with_cursor[context.cursor_position :]


# -- inspection (Shift+Tab) ----------------------------------------------------------------------------


class TableInspector:
    """Inspection (Shift+Tab) of a table name: its schema, row count and last snapshot.

    ``silver.sales`` and ``{silver.sales}`` are tables; any other name goes to IPython's own inspection.

    Installed over the shell's ``object_inspect_mime`` (what ipykernel calls for an ``inspect_request``
    with the token at the cursor), and removed by :meth:`uninstall`.
    """

    def __init__(self, shell: Any, names: TableNames, schemas: TableSchemas) -> None:
        self._shell = shell
        self._names = names
        self._schemas = schemas
        self._had_own = "object_inspect_mime" in vars(shell)
        self._previous = shell.object_inspect_mime

    def install(self) -> None:
        """Answer the shell's inspections from now on."""
        self._shell.object_inspect_mime = self.object_inspect_mime

    def uninstall(self) -> None:
        """Give the shell its previous inspection back."""
        if vars(self._shell).get("object_inspect_mime") != self.object_inspect_mime:
            return  # someone wrapped it after us: leave their wrapper in place
        if self._had_own:
            self._shell.object_inspect_mime = self._previous
        else:
            del self._shell.object_inspect_mime

    def object_inspect_mime(self, oname: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        """The bundle of a table, else what the shell answers."""
        identifier = self.table_of(oname)
        if identifier is not None:
            info = self._schemas.info(identifier)
            if info is not None:
                return table_bundle(info)
        result: dict[str, str] = self._previous(oname, *args, **kwargs)
        return result

    def table_of(self, oname: str) -> str | None:
        """The table ``oname`` names, when it is one and not a notebook variable's attribute."""
        name = oname.strip().strip("{}").split("@", 1)[0].strip()
        if not _TABLE_NAME.match(name) or name.split(".", 1)[0] in self._shell.user_ns:
            return None
        if name.startswith("temp.") or not self._names.known(name):
            return None
        return name


def table_bundle(info: TableInfo) -> dict[str, str]:
    """``text/plain``, ``text/markdown`` and ``text/html`` views of a table's schema and freshness."""
    import html

    d = info.doc
    if d.snapshot_id is None:
        fresh = "never written"
    else:
        when = d.updated.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(d.updated, dt.datetime) else "?"
        rows = "? rows" if d.rows is None else f"{d.rows:,} row{'' if d.rows == 1 else 's'}"
        fresh = f"{rows} · last snapshot {d.snapshot_id} ({when}, {info.operation or '?'})"
    plain = [f"{d.identifier} · {fresh}"]
    markdown = [f"**{d.identifier}** · {fresh}", ""]
    html_parts = [f"<b>{html.escape(d.identifier)}</b> · {html.escape(fresh)}"]
    if d.description:
        plain += [d.description]
        markdown += [d.description, ""]
        html_parts.append(f"<p>{html.escape(d.description)}</p>")
    width = max([len("column")] + [len(c.name) for c in d.columns])
    kinds = max([len("type")] + [len(c.type) for c in d.columns])
    plain += ["", f"{'column'.ljust(width)}  {'type'.ljust(kinds)}  description"]
    plain += [f"{c.name.ljust(width)}  {c.type.ljust(kinds)}  {c.doc or ''}".rstrip() for c in d.columns]
    markdown += ["| column | type | description |", "|---|---|---|"]
    markdown += [f"| `{c.name}` | `{c.type}` | {_md_cell(c.doc)} |" for c in d.columns]
    rows_html = "".join(
        f"<tr><td><code>{html.escape(c.name)}</code></td><td><code>{html.escape(c.type)}</code></td>"
        f"<td>{html.escape(c.doc or '')}</td></tr>"
        for c in d.columns
    )
    html_parts.append(
        "<table><thead><tr><th>column</th><th>type</th><th>description</th></tr></thead>"
        f"<tbody>{rows_html}</tbody></table>"
    )
    return {
        "text/plain": "\n".join(plain),
        "text/markdown": "\n".join(markdown),
        "text/html": "".join(html_parts),
    }


def _md_cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")
