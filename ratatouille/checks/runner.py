"""Running checks: every check validated first (table, columns, SQL), then each run on one snapshot.

A check's table is resolved on the session's branch and its references in the check's SQL are pinned to
that snapshot, so the count, the sample and the reported ``snapshot_id`` describe the same data. Count
and sample come from one query, in which the check's SQL appears twice (the same snapshot both times)::

    SELECT (SELECT count() FROM (<check sql>)) AS __rat_violations, * FROM (<check sql>) LIMIT 10

The engine streams the second copy and stops after 10 rows; the count reads every violating row without
keeping them (a window ``count() OVER ()`` would buffer them all).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import EngineError, InvalidInput, NotFound
from ..sqltext import Found, TableRef, _code_spans, find_placeholders, quote_identifier, substitute
from .model import SAMPLE_ROWS, Check, CheckResult, validate_name, validate_severity

if TYPE_CHECKING:
    from ..reading import ResolvedTable
    from ..session import Lakehouse

COUNT_COLUMN = "__rat_violations"
_SQL_START = re.compile(r"\s*(\(|SELECT\b|WITH\b)", re.IGNORECASE)
_TIME_TYPES = ("date", "timestamp", "timestamptz", "timestamp_ns", "timestamptz_ns")


def looks_like_sql(text: str) -> bool:
    """True for text starting as a query does (``SELECT``, ``WITH``, ``(``), not as a check spec."""
    return bool(_SQL_START.match(text))


def sql_check(sql: str, table: str | None = None, severity: str = "error", name: str | None = None) -> Check:
    """A check from SQL returning the violating rows.

    Args:
        sql: ClickHouse SQL with ``{ns.t}`` references (one statement).
        table: The table the check is filed under (it must be read by the SQL); when omitted, the one
            table the SQL reads.
        severity: ``error`` or ``warn``.
        name: The check's name; ``sql_<hash of the SQL>`` when omitted (the same SQL keeps its name).

    Raises:
        InvalidInput: Empty SQL, several statements, no table, a table the SQL does not read.
    """
    severity = validate_severity(severity)
    text = sql.strip() if isinstance(sql, str) else ""
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise InvalidInput("the check's SQL is empty: write a query returning the violating rows")
    if any(";" in text[a:b] for a, b in _code_spans(text)):
        raise InvalidInput("a check is one SQL statement returning the violating rows")
    read = list(dict.fromkeys(f.table.identifier for f in find_placeholders(text) if f.table is not None))
    if table is None:
        if len(read) != 1:
            what = f"it reads {', '.join(read)}" if read else "it reads no {ns.table}"
            raise InvalidInput(f"name the table the check is about with table= ({what})")
        table = read[0]
    ref = TableRef.parse(table)
    if ref.is_pinned:
        raise InvalidInput(f"{table}: checks read the session's branch; name the table without '@...'")
    if ref.identifier not in read:
        raise InvalidInput(f"the check's SQL does not read {{{ref.identifier}}}, the table it is about")
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]
    return Check(validate_name(name) if name is not None else f"sql_{digest}", ref.identifier, severity, text)


def run_checks(session: Lakehouse, checks: Sequence[Check], store: bool = True) -> list[CheckResult]:
    """Run checks on the session's branch; return one result per check, in order.

    Every check is validated before any runs; a check whose SQL the engine refuses stops the run. The
    results are stored (see :mod:`.store`) only when every check ran; a store that cannot be written is a
    warning, never a failure. In a pipeline run (``RAT_CHECKS_LOG`` set), they are also reported to the
    run, ``store=False`` or not.

    Raises:
        NotFound: A check's table does not exist.
        InvalidInput: An invalid severity or name, a column the table lacks, a name given twice.
        EngineError: The engine refused a check's SQL (the message names the check).
    """
    heads: dict[str, ResolvedTable] = {}  # each table resolved once: its checks read the same snapshot
    resolved = [_validate(session, check, heads) for check in checks]
    seen: set[tuple[str, str]] = set()
    for check in checks:
        if (check.table, check.name) in seen:
            raise InvalidInput(f"two checks on {check.table} are named {check.name!r}: give one another name")
        seen.add((check.table, check.name))
    results = [_run(session, check, table) for check, table in zip(checks, resolved, strict=True)]
    if results:
        from .store import log_run_results, save_results

        log_run_results(results)  # in a pipeline run's kernel: the run gates its publish on them
        if store:
            save_results(session.settings, results)
    return results


def _validate(session: Lakehouse, check: Check, heads: dict[str, ResolvedTable]) -> ResolvedTable:
    validate_severity(check.severity)
    validate_name(check.name)
    resolved = heads.get(check.table)
    if resolved is None:
        try:
            resolved = heads[check.table] = session.resolve(check.table)
        except NotFound as e:
            raise NotFound(f"check {check.name}: {e}") from None
    fields = {f.name: f for f in resolved.schema.fields}
    for column in check.columns:
        if column not in fields:
            close = difflib.get_close_matches(column, list(fields), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InvalidInput(
                f"check {check.name}: {check.table} has no column {column!r}{hint}; "
                f"its columns: {', '.join(fields)}"
            )
    for column in check.time_columns:
        kind = str(fields[column].field_type)
        if kind not in _TIME_TYPES:
            raise InvalidInput(
                f"check {check.name}: column {column!r} of {check.table} is {kind}, not a date or time"
            )
    return resolved


def _run(session: Lakehouse, check: Check, resolved: ResolvedTable) -> CheckResult:
    pinned = _pin(check, resolved.snapshot_id)
    wrapped = (
        "SELECT (SELECT count() FROM (\n"
        f"{pinned}\n"
        f")) AS {quote_identifier(COUNT_COLUMN)}, * FROM (\n"
        f"{pinned}\n"
        f") LIMIT {SAMPLE_ROWS}"
    )
    started = time.perf_counter()
    try:
        result = session.query_arrow(wrapped, fill=False)
    except EngineError as e:
        line = _user_line(e.line, check.sql.count("\n") + 1)
        raise EngineError(f"check {check.name} on {check.table}: {e}", sql=check.sql, line=line) from None
    elapsed = time.perf_counter() - started
    count = int(result.column(0)[0].as_py()) if result.num_rows else 0
    return CheckResult(
        name=check.name,
        table=check.table,
        severity=check.severity,
        passed=count == 0,
        count=count,
        sample=result.drop_columns([COUNT_COLUMN]),
        sql=check.sql,
        elapsed_s=elapsed,
        snapshot_id=resolved.snapshot_id,
        branch=session.branch,
    )


def _pin(check: Check, snapshot_id: int | None) -> str:
    """The check's SQL with its table's unpinned references pinned to ``snapshot_id``."""
    if snapshot_id is None:
        return check.sql
    found = find_placeholders(check.sql)

    def render(f: Found) -> str:
        ref = f.table
        if ref is not None and ref.identifier == check.table and not ref.is_pinned:
            return "{" + f"{ref.identifier}@{snapshot_id}" + "}"
        return check.sql[f.start : f.end]

    return substitute(check.sql, found, render)


def _user_line(line: int | None, lines: int) -> int | None:
    """The check's SQL line for a line of the wrapped query (its SQL starts on lines 2 and lines + 3)."""
    if line is None:
        return None
    if 2 <= line <= lines + 1:
        return line - 1
    if lines + 3 <= line <= 2 * lines + 2:
        return line - lines - 2
    return None
