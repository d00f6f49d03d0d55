"""Data-quality checks: SQL returning a table's violating rows, shortcuts, runs, stored last results.

One-line shortcuts cover the usual rules; each check runs on one snapshot of its table, and the last
result of each is kept in the lakehouse home.
"""

from .model import SAMPLE_ROWS, SEVERITIES, Check, CheckResult
from .runner import looks_like_sql, run_checks, sql_check
from .shortcuts import parse_spec
from .store import last_results, save_results

__all__ = [
    "SAMPLE_ROWS",
    "SEVERITIES",
    "Check",
    "CheckResult",
    "last_results",
    "looks_like_sql",
    "parse_spec",
    "run_checks",
    "save_results",
    "sql_check",
]
