"""``%rat_check`` / ``%%rat_check``: run data-quality checks on the lakehouse and show what they found.

A failed check is a result, not an error: the cell shows ✗ with the violating rows. Bad input (unknown
table, column or shortcut, malformed arguments, SQL the engine refuses) is a one-line ``UsageError``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..display import _CSS, plural, seconds
from .errors import user_errors
from .options import _branch, _pairs, split_sql_line, strip_comment, tokenize
from .sql import on_branch, statement

if TYPE_CHECKING:
    from ratatouille.checks import CheckResult

    from .core import RatMagics

LINE_OPTIONS = ("severity", "name", "branch")
CELL_OPTIONS = ("table", "severity", "name", "branch")
USAGE = (
    "usage: %rat_check [severity=error|warn] [name=NAME] [branch=NAME] ns.table not_null(col) unique(col) "
    "accepted_values(col, ['a', 'b']) row_count(>0) fresh(col, 24h)"
)
_SAMPLE_SHOWN = 10


def run_check(magics: RatMagics, line: str, cell: str | None) -> CheckReport:
    """Run one ``%rat_check`` line (``cell`` None) or ``%%rat_check`` cell; see the magic's help."""
    if cell is None:
        leading, spec = split_sql_line(strip_comment(line))
        opts = _pairs(tokenize(" ".join(leading), "%rat_check"), LINE_OPTIONS, (), "%rat_check")
        if not spec:
            raise UsageError(USAGE)
        text, table = spec, None
    else:
        opts = _pairs(tokenize(line, "%%rat_check"), CELL_OPTIONS, (), "%%rat_check")
        text = statement(cell, "write a query returning the violating rows below the %%rat_check line")
        table = opts.get("table")
    branch = _branch(opts["branch"]) if "branch" in opts else None
    rat = magics.rat
    with user_errors(), on_branch(rat.session, branch):
        results = rat.check(text, table=table, severity=opts.get("severity", "error"), name=opts.get("name"))
        return CheckReport(results, branch=rat.session.branch)


class CheckReport(list["CheckResult"]):
    """The results of a ``%rat_check`` run (a list), shown one line per check with failures' rows."""

    def __init__(self, results: list[CheckResult], branch: str = "main") -> None:
        super().__init__(results)
        self.branch = branch

    def summary(self) -> str:
        """``3 checks: 1 failed, 1 warning, 1 passed · 0.041 s · branch dev``."""
        failed = sum(r.status == "fail" for r in self)
        warned = sum(r.status == "warn" for r in self)
        passed = len(self) - failed - warned
        parts = [
            f"{plural(len(self), 'check')}: {failed} failed, {plural(warned, 'warning')}, {passed} passed"
        ]
        parts.append(seconds(sum(r.elapsed_s for r in self)))
        if self.branch != "main":
            parts.append(f"branch {self.branch}")
        return " · ".join(parts)

    @staticmethod
    def check_line(result: CheckResult) -> str:
        """``✗ not_null(id) · silver.sales · 2 violating rows · error``."""
        mark = "✓" if result.passed else "✗"
        count = plural(result.count, "violating row")
        return f"{mark} {result.name} · {result.table} · {count} · {result.severity}"

    def text(self) -> str:
        """The plain-text view: one line per check, the sample of each failure indented under it."""
        lines = [self.summary()]
        for result in self:
            lines.append(self.check_line(result))
            if not result.passed and result.sample.num_rows:
                sample = result.sample_df().head(_SAMPLE_SHOWN).to_string(index=False)
                lines.extend("    " + row for row in sample.split("\n"))
                if result.count > result.sample.num_rows:
                    lines.append(f"    (first {result.sample.num_rows} of {result.count:,})")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())

    def _repr_html_(self) -> str:
        parts = [_CSS, f'<div class="rat-summary">{html.escape(self.summary())}</div>']
        for result in self:
            color = "var(--jp-success-color0,#2e7d32)"
            if not result.passed:
                color = (
                    "var(--jp-error-color0,#c62828)"
                    if result.severity == "error"
                    else "var(--jp-warn-color0,#a05a00)"
                )
            mark = "✓" if result.passed else "✗"
            rest = html.escape(self.check_line(result)[2:])
            parts.append(f'<div class="rat-check"><span style="color:{color}">{mark}</span> {rest}</div>')
            if not result.passed and result.sample.num_rows:
                table = result.sample_df().head(_SAMPLE_SHOWN).to_html(index=False, border=0)
                more = ""
                if result.count > result.sample.num_rows:
                    more = f'<div class="rat-notice">first {result.sample.num_rows} of {result.count:,}</div>'
                parts.append(f'<div style="margin:2px 0 8px 1.5em">{table}{more}</div>')
        return "<div class='rat-checks'>" + "".join(parts) + "</div>"
