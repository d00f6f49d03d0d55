"""What a data-quality check is, and what running it says.

A :class:`Check` is SQL returning the rows that violate a rule of one table (an empty result: the check
passes). Running it gives a :class:`CheckResult`: how many rows violate it, the first of them, and the
snapshot of the table that was read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import InvalidInput

SEVERITIES = ("error", "warn")
#: Violating rows kept as the sample of a failed check.
SAMPLE_ROWS = 10
_MAX_NAME = 200


def validate_severity(severity: object) -> str:
    """``error`` or ``warn``; anything else is an :class:`InvalidInput`."""
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity={severity!r} is not one of: {', '.join(SEVERITIES)}")
    return str(severity)


def validate_name(name: object) -> str:
    """A check name: text on one line, at most 200 characters."""
    if not isinstance(name, str) or not name.strip() or "\n" in name or len(name) > _MAX_NAME:
        raise InvalidInput(f"invalid check name {name!r}: one line of text, at most {_MAX_NAME} characters")
    return name.strip()


@dataclass(frozen=True)
class Check:
    """One data-quality rule of a table.

    Attributes:
        name: The check's name, unique per table (``not_null(id)``, or one the user gave).
        table: ``namespace.table`` the check is filed under; its snapshot is the one reported.
        severity: ``error`` (the data is wrong) or ``warn`` (worth a look).
        sql: ClickHouse SQL with ``{ns.t}`` references returning the violating rows.
        columns: Columns of ``table`` the check needs (checked against its schema before it runs).
        time_columns: Those of ``columns`` that must hold dates or times.
    """

    name: str
    table: str
    severity: str
    sql: str
    columns: tuple[str, ...] = ()
    time_columns: tuple[str, ...] = ()


@dataclass
class CheckResult:
    """What running one check found.

    Attributes:
        name: The check's name.
        table: ``namespace.table``.
        severity: ``error`` or ``warn``.
        passed: True when no row violates the check.
        count: How many rows the check's SQL returned (all of them, not only the sample).
        sample: The first violating rows (at most 10), as Arrow.
        sql: The check's SQL (references not expanded).
        elapsed_s: Wall time of the run.
        snapshot_id: The snapshot of ``table`` read (None for a table without data).
        branch: The branch the check read.
        checked_at: When the check ran (UTC).
    """

    name: str
    table: str
    severity: str
    passed: bool
    count: int
    sample: pa.Table
    sql: str
    elapsed_s: float
    snapshot_id: int | None
    branch: str = "main"
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def status(self) -> str:
        """``pass``, ``fail`` (an error check failed) or ``warn`` (a warn check failed)."""
        if self.passed:
            return "pass"
        return "fail" if self.severity == "error" else "warn"

    def line(self) -> str:
        """``✓ not_null(id) on silver.sales: 0 rows (error)``."""
        mark = "✓" if self.passed else "✗"
        rows = f"{self.count:,} violating row{'' if self.count == 1 else 's'}"
        return f"{mark} {self.name} on {self.table}: {rows} ({self.severity})"

    def sample_df(self) -> Any:
        """The sample as a pandas DataFrame."""
        return self.sample.to_pandas()

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe values (the sample as a list of row dicts)."""
        return {
            "name": self.name,
            "table": self.table,
            "severity": self.severity,
            "passed": self.passed,
            "status": self.status,
            "count": self.count,
            "sample": json.loads(json.dumps(self.sample.to_pylist(), default=str)),
            "sql": self.sql,
            "elapsed_s": round(self.elapsed_s, 6),
            "snapshot_id": self.snapshot_id,
            "branch": self.branch,
            "checked_at": self.checked_at.isoformat(),
        }

    def __repr__(self) -> str:
        return f"<CheckResult {self.line()}>"
