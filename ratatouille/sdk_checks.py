"""Data-quality check calls of ``rat``: thin over :mod:`ratatouille.checks`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .errors import CheckFailed, InvalidInput
from .sdk_base import FacadeBase

if TYPE_CHECKING:
    from .checks import CheckResult

_RESULT_COLUMNS = [
    "table", "name", "status", "severity", "passed", "count", "snapshot_id", "branch", "checked_at",
    "elapsed_s", "sql", "sample",
]  # fmt: skip


class ChecksMixin(FacadeBase):
    """Data-quality checks of ``rat`` (see docs/checks.md)."""

    def check(
        self,
        spec_or_sql: str,
        table: str | None = None,
        severity: str = "error",
        name: str | None = None,
        raise_on_error: bool = False,
    ) -> list[CheckResult]:
        """Run data-quality checks on the session's branch; store and return their results.

        Args:
            spec_or_sql: A one-line spec, ``"silver.sales not_null(id) unique(id) row_count(>0)"``
                (shortcuts: ``not_null``, ``unique``, ``accepted_values``, ``row_count``, ``fresh``), or
                SQL returning the violating rows (``SELECT ...``/``WITH ...``, or any text with ``table=``).
            table: For SQL: the table the check is about (default: the one table the SQL reads).
            severity: ``error`` or ``warn``.
            name: The check's name (one check only); by default the shortcut (``not_null(id)``) or
                ``sql_<hash>``.
            raise_on_error: Raise :class:`~ratatouille.errors.CheckFailed` (results attached) when an
                ``error`` check fails; by default a failed check is only a result.

        Returns:
            One :class:`~ratatouille.checks.CheckResult` per check: ``passed``, ``count``, ``sample``...

        Raises:
            InvalidInput: A malformed spec, unknown shortcut or column, invalid severity; nothing runs.
            NotFound: The table does not exist.
            EngineError: The engine refused a check's SQL.
        """
        from .checks import looks_like_sql, parse_spec, run_checks, sql_check

        if not isinstance(spec_or_sql, str):
            raise InvalidInput(f"expected a check spec or SQL text, got {type(spec_or_sql).__name__}")
        if table is not None or looks_like_sql(spec_or_sql):
            checks = [sql_check(spec_or_sql, table=table, severity=severity, name=name)]
        else:
            checks = parse_spec(spec_or_sql, severity=severity)
            if name is not None:
                if len(checks) != 1:
                    raise InvalidInput("name= names one check: the spec holds several, run them one by one")
                from dataclasses import replace

                from .checks.model import validate_name

                checks = [replace(checks[0], name=validate_name(name))]
        results = run_checks(self.session, checks)
        failed = [r for r in results if not r.passed and r.severity == "error"]
        if raise_on_error and failed:
            listed = ", ".join(f"{r.name} ({r.count:,} violating)" for r in failed)
            raise CheckFailed(
                f"{len(failed)} error check(s) failed on {failed[0].table}: {listed}", results=list(results)
            )
        return results

    def check_results(self, table: str | None = None) -> pd.DataFrame:
        """The last stored result of each check, of one table or of all, as a DataFrame."""
        from .checks import last_results

        rows = last_results(self.settings, table)
        frame = pd.DataFrame(rows, columns=_RESULT_COLUMNS)
        frame["snapshot_id"] = frame["snapshot_id"].astype("Int64")
        frame["count"] = frame["count"].astype("int64")
        frame["checked_at"] = pd.to_datetime(frame["checked_at"], utc=True, format="ISO8601")
        return frame
