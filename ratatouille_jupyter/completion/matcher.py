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

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, SimpleMatcherResult, context_matcher

from ratatouille.sqltext import _code_spans, find_references

from .inspect import _TABLE_NAME
from .sqlwords import KEYWORDS, functions_starting
from .tables import TableSchemas

_PARTIAL = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)?)?"
_IN_BRACE = re.compile(r"\{\s*" + _PARTIAL + r"$")
_AFTER_TARGET = re.compile(r"^%%?rat_(?:sql\b.*\btarget=|check\b.*\btable=)" + _PARTIAL + r"$")
_TABLE_ARG = re.compile(
    r"^%rat_(?:history\s+|ingest\s+\S+\s+|doc\s+|check\s+(?:[A-Za-z_]+=\S*\s+)*)" + _PARTIAL + r"$"
)
_SQL_CELL = re.compile(r"%%rat_(sql|check)\b([^\n]*)\n")
_SQL_LINE = re.compile(r"\s*%rat_(sql|check)\s+")
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
    if matches:
        # JupyterLab orders equally good matches alphabetically, whatever order the kernel gives: with
        # functions in the list, `SELECT re` would show readWKB... before the column region. Columns of
        # the cell's tables are what is meant most often; one more letter that no column has brings
        # the functions (and keywords) back.
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

    from ..magics.params import clickhouse_type

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
