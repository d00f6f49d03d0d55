"""``%rat_check`` / ``%%rat_check`` in an in-process shell: one line per check, the violating rows of
failures, results stored; a failed check is a result, bad input a one-line ``UsageError``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from ratatouille import rat
from ratatouille_jupyter.magics.check import CheckReport

SALES = pd.DataFrame(
    {
        "id": pd.array([1, 2, 2, None], dtype="Int64"),
        "region": ["north", "south", "it's", "north"],
        "total": [10.0, -1.0, 5.0, 2.0],
    }
)


@pytest.fixture
def sales(shell: Any) -> Any:
    rat.ice_ingest_df(SALES, "silver.sales")
    return shell


def views(shell: Any, value: Any) -> tuple[str, str]:
    data = shell.display_formatter.format(value)[0]
    return data["text/plain"], data["text/html"]


def test_line_magic_runs_shortcuts(sales: Any) -> None:
    report = sales.run_line_magic(
        "rat_check",
        "silver.sales not_null(id) unique(id) "
        "accepted_values(region, ['north', 'south', 'it\\'s']) row_count(>0)",
    )
    assert isinstance(report, CheckReport) and isinstance(report, list)
    assert [(r.name, r.count, r.passed) for r in report] == [
        ("not_null(id)", 1, False),
        ("unique(id)", 1, False),
        ("accepted_values(region)", 0, True),
        ("row_count(>0)", 0, True),
    ]
    text, html = views(sales, report)
    lines = text.split("\n")
    assert lines[0].startswith("4 checks: 2 failed, 0 warnings, 2 passed · ")
    assert lines[1] == "✗ not_null(id) · silver.sales · 1 violating row · error"
    assert "NaN" in lines[3] and "north" in lines[3]  # the sample, indented under its check
    assert "✓ row_count(>0) · silver.sales · 0 violating rows · error" in lines
    assert "unique(id) · silver.sales · 1 violating row · error" in html and "<table" in html
    assert "duplicates" in html and "&#x27;" not in html.split("<table")[0]
    stored = rat.check_results("silver.sales")
    assert sorted(stored.name) == ["accepted_values(region)", "not_null(id)", "row_count(>0)", "unique(id)"]


def test_line_magic_options(sales: Any) -> None:
    report = sales.run_line_magic("rat_check", "severity=warn name=ids_present silver.sales not_null(id)")
    assert [(r.name, r.severity, r.status) for r in report] == [("ids_present", "warn", "warn")]
    text, _ = views(sales, report)
    assert text.startswith("1 check: 0 failed, 1 warning, 0 passed · ")


def test_cell_magic_runs_sql(sales: Any) -> None:
    report = sales.run_cell_magic(
        "rat_check",
        "table=silver.sales severity=warn name=no_negative_totals",
        "SELECT id, total FROM {silver.sales}\nWHERE total < 0;\n",
    )
    assert len(report) == 1
    result = report[0]
    assert (result.name, result.table, result.severity, result.count) == (
        "no_negative_totals",
        "silver.sales",
        "warn",
        1,
    )
    assert result.sample.to_pylist() == [{"id": 2, "total": -1.0}]
    text, html = views(sales, report)
    assert "✗ no_negative_totals · silver.sales · 1 violating row · warn" in text
    assert "-1.0" in html
    passed = sales.run_cell_magic("rat_check", "", "SELECT * FROM {silver.sales} WHERE total > 100")
    assert passed[0].passed and passed[0].table == "silver.sales"
    assert views(sales, passed)[0].split("\n")[1].startswith("✓ sql_")


def test_checks_on_a_branch(sales: Any) -> None:
    rat.dev_start("fix")
    rat.ice_delete("silver.sales", "id IS NULL")
    rat.dev()
    on_branch = sales.run_line_magic("rat_check", "branch=fix silver.sales not_null(id)")
    assert on_branch[0].passed and on_branch[0].branch == "fix" and on_branch.branch == "fix"
    assert "branch fix" in views(sales, on_branch)[0].split("\n")[0]
    assert rat.session.branch == "main"
    assert not sales.run_line_magic("rat_check", "silver.sales not_null(id)")[0].passed


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("", None, r"^usage: %rat_check "),
        ("severity=warn", None, r"^usage: %rat_check "),
        ("silver.nope not_null(id)", None, r"^check not_null\(id\): .*silver\.nope"),
        ("silver.sales not_null(nope)", None, r"^check not_null\(nope\): silver.sales has no column 'nope'"),
        ("silver.sales frobnicate(id)", None, r"^unknown check frobnicate\(id\)"),
        ("silver.sales row_count(lots)", None, r"^row_count\(lots\): expected a comparison"),
        ("severity=fatal silver.sales not_null(id)", None, r"^severity='fatal' is not one of: error, warn$"),
        ("colour=red silver.sales not_null(id)", None, r"^unknown %rat_check option 'colour'"),
        ("table=silver.sales", ";", r"^there is no SQL to run"),
        ("tabel=silver.sales", "SELECT 1", r"unknown %%rat_check option 'tabel' \(did you mean table\?\)"),
        ("", "SELECT 1", r"^name the table the check is about with table="),
        (
            "name=bad",
            "SELECT nope FROM {silver.sales}",
            r"^check bad on silver.sales: .*nope.*\[SQL line 1: ",
        ),
    ],
)
def test_bad_input_is_a_one_line_usage_error(sales: Any, line: str, cell: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        if cell is None:
            sales.run_line_magic("rat_check", line)
        else:
            sales.run_cell_magic("rat_check", line, cell)
    assert rat.check_results().empty
