"""Table-name completion where a table is expected.

Inside ``{`` in ``%%rat_sql`` cells and ``rat.*("...")`` strings, in a ``rat.df("...")``-like first
argument, after ``target=``, and as the table argument of ``%rat_history`` / ``%rat_ingest``.

The names come from the catalog (no engine start), cached for a few seconds so typing stays fast.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, SimpleMatcherResult, context_matcher

_CACHE_S = 5.0
_PARTIAL = r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]*)?)?"
_IN_BRACE = re.compile(r"\{\s*" + _PARTIAL + r"$")
_AFTER_TARGET = re.compile(r"^%%?rat_sql\b.*\btarget=" + _PARTIAL + r"$")
_TABLE_ARG = re.compile(r"^%rat_(?:history\s+|ingest\s+\S+\s+)" + _PARTIAL + r"$")
# A call of the SDK whose first argument is a table (or SQL with references), with its string open.
_RAT_CALL = re.compile(
    r"\brat\.(?:df|query|arrow|transform|transform_preview|t|ice_read|ice_history|ice_time_travel|"
    r"ice_location|ice_drop|dev_diff)\(\s*(?:sql\s*=\s*)?[rfb]?(\"\"\"|'''|\"|')"
)
_RAT_STRING_TABLE = re.compile(_PARTIAL + r"$")


class TableNames:
    """``namespace.table`` names of the lakehouse (and the session's ``temp.*``), briefly cached."""

    def __init__(self, rat: Any) -> None:
        self._rat = rat
        self._names: list[str] = []
        self._at = 0.0

    def get(self) -> list[str]:
        """All names, sorted."""
        now = time.monotonic()
        if now - self._at > _CACHE_S:
            try:
                names = [f"{ns}.{t}" for ns, tables in self._rat.ice_all().items() for t in tables]
                names += [f"temp.{t}" for t in self._rat.temp_list()]
            except Exception:  # a broken catalog must not break typing: complete nothing
                names = []
            self._names, self._at = sorted(names), now
        return self._names


def table_matcher(names: Callable[[], list[str]]) -> Callable[[CompletionContext], SimpleMatcherResult]:
    """An IPython (API v2) matcher completing table names where a table is expected."""

    @context_matcher()  # type: ignore[untyped-decorator]
    def rat_tables(context: CompletionContext) -> SimpleMatcherResult:
        before = _text_before_cursor(context)
        partial = _partial_table(before, context.full_text)
        if partial is None:
            return {"completions": [], "suppress": False}
        after = _text_after_cursor(context)
        close = "}" if _brace_open(before) and not after.lstrip(" ").startswith("}") else ""
        matches = [n for n in names() if n.startswith(partial) or n.split(".", 1)[1].startswith(partial)]
        return {
            "completions": [SimpleCompletion(text=n + close, type="table") for n in matches],
            "matched_fragment": partial,
            "suppress": bool(matches),
            "ordered": True,
        }

    return rat_tables  # type: ignore[no-any-return]


def _partial_table(before: str, full_text: str) -> str | None:
    """The table name typed so far, when the cursor is where a table is expected; else None."""
    line = before.rsplit("\n", 1)[-1]
    if m := _AFTER_TARGET.match(line) or _TABLE_ARG.match(line):
        return m.group(1) or ""
    in_rat_sql_cell = (
        full_text.lstrip().startswith("%%rat_sql") and "\n" in before
    ) or line.lstrip().startswith("%rat_sql ")
    m = _IN_BRACE.search(before)
    if m and (in_rat_sql_cell or _inside_rat_string(before[: m.start()])):
        return m.group(1) or ""
    if (call := _last_rat_call(before)) is not None and "{" not in before[call:]:
        plain = _RAT_STRING_TABLE.search(before[call:])
        if plain is not None and plain.start() == 0:
            return plain.group(1) or ""
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
