"""Option parsing of the magics: every accepted form, and a one-line error for every bad one."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from ratatouille_jupyter.magics.options import (
    parse_ingest_options,
    parse_sql_options,
    split_sql_line,
    tokenize,
)


def cell_options(line: str) -> object:
    return parse_sql_options(tokenize(line, "%%rat_sql"))


def test_all_sql_options() -> None:
    opts = cell_options(
        "target=silver.sales mode=merge merge_keys=id,day branch=dev limit=5 name=df result=arrow --preview"
    )
    assert (opts.target, opts.mode, opts.merge_keys, opts.branch) == (
        "silver.sales",
        "merge",
        ["id", "day"],
        "dev",
    )
    assert (opts.limit, opts.name, opts.result, opts.preview) == (5, "df", "arrow", True)


def test_chart_options() -> None:
    opts = cell_options('chart=bar x=region y=revenue color="sales channel"')
    assert (opts.chart, opts.x, opts.y, opts.color) == ("bar", "region", "revenue", "sales channel")


def test_chart_kinds_match_the_core() -> None:
    from ratatouille.charts import KINDS
    from ratatouille_jupyter.magics.options import CHART_KINDS

    assert CHART_KINDS == KINDS


def test_no_options() -> None:
    opts = cell_options("")
    assert opts.target is None and opts.preview is False and opts.limit is None


def test_line_form_splits_leading_options_from_sql() -> None:
    tokens, sql = split_sql_line("limit=3 name=\"my df\" SELECT a = 1, 'x=y' FROM {bronze.t}")
    assert sql == "SELECT a = 1, 'x=y' FROM {bronze.t}"
    assert tokenize(" ".join(tokens), "%rat_sql") == ["limit=3", "name=my df"]
    assert split_sql_line("SELECT 1") == ([], "SELECT 1")
    assert split_sql_line("--preview SELECT 1") == (["--preview"], "SELECT 1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("tagret=silver.x", "unknown %%rat_sql option 'tagret' (did you mean target?)"),
        ("--preveiw", "did you mean --preview?"),
        ("target=silver.x target=silver.y", "option target is given twice"),
        ("target=nonamespace", "target: invalid table name 'nonamespace'"),
        ("target=silver.x mode=upsert", "mode='upsert' is not one of: append, overwrite, overwrite_"),
        (
            "mode=append",
            "mode=, merge_keys=, partition_by= and on_rewrite= describe a write: add target=namespace.table",
        ),
        ("on_rewrite=full", "describe a write"),
        ("target=a.b on_rewrite=never", "on_rewrite"),
        ("merge_keys=id", "describe a write"),
        ("target=silver.x mode=merge", "mode=merge needs merge_keys="),
        ("target=silver.x mode=append merge_keys=id", "merge_keys= only applies to mode=merge"),
        ("target=silver.x merge_keys=,", "merge_keys needs column names"),
        ("limit=ten", "limit='ten': expected a number of rows"),
        ("limit=-1", "expected a number of rows"),
        ("name=2df", "name='2df' is not a Python variable name"),
        ("name=class", "not a Python variable name"),
        ("result=polars", "result='polars' is not one of: pandas, arrow"),
        ("branch=a..b", "invalid branch name"),
        ("limit=", "limit= has no value"),
        ("SELECT 1", "the SQL goes in the cell body"),
        ('name="unclosed', "check the quotes"),
        ("chart=pie x=a", "chart='pie' is not one of: bar, line, area, scatter, histogram"),
        ("x=region", "x=, y= and color= describe a chart: add chart=bar|line|area|scatter|histogram"),
        ("chart=bar", "chart=bar needs x=COLUMN"),
        ("chart=bar x=a target=silver.x", "chart= shows a result; it does not go with target="),
    ],
)
def test_bad_sql_options(line: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        cell_options(line)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_ingest_options() -> None:
    opts = parse_ingest_options(
        tokenize(
            "landing/sales.xlsx bronze.sales sheet=Data mode=overwrite name=raw header=false skip_rows=2 "
            "extract_from_filename='(?P<year>\\d{4})'",
            "%rat_ingest",
        )
    )
    assert (opts.source, opts.table, opts.name) == ("landing/sales.xlsx", "bronze.sales", "raw")
    assert opts.call == {
        "sheet": "Data",
        "mode": "overwrite",
        "header": False,
        "skip_rows": 2,
        "extract_from_filename": "(?P<year>\\d{4})",
    }
    assert parse_ingest_options(["s3://b/day=1/f.csv", "bronze.t", "sheet=2"]).call == {"sheet": 2}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "usage: %rat_ingest SOURCE namespace.table"),
        ("only_source.csv", "usage: %rat_ingest"),
        ("f.csv sheet=1", "usage: %rat_ingest"),
        ("f.csv notatable", "table: invalid table name"),
        ("f.csv bronze.t mode=merge", "mode='merge' is not one of: append, overwrite"),
        ("f.csv bronze.t name=1x", "not a Python variable name"),
        ("f.csv bronze.t sheet=1 sheet=2", "given twice"),
        ("f.csv bronze.t stray", "unexpected 'stray'"),
    ],
)
def test_bad_ingest_options(line: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_ingest_options(tokenize(line, "%rat_ingest"))
    assert message in str(e.value)


def test_partition_by_and_overwrite_partitions() -> None:
    opts = cell_options(
        'target=silver.ev mode=overwrite_partitions partition_by="day(ts), bucket(16, user_id)"'
    )
    assert opts.mode == "overwrite_partitions"
    assert opts.partition_by == ["day(ts)", "bucket(16, user_id)"]
    ingest = parse_ingest_options(
        tokenize("landing/e.csv bronze.ev partition_by=day(ts) mode=overwrite_partitions", "%rat_ingest")
    )
    assert ingest.call == {"partition_by": ["day(ts)"], "mode": "overwrite_partitions"}
    with pytest.raises(UsageError, match="unknown partition transform"):
        cell_options("target=silver.ev partition_by=week(ts)")
    with pytest.raises(UsageError, match="add target="):
        cell_options("partition_by=day(ts)")


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("silver   # every namespace", ["silver"]),
        ("# only a comment", []),
        ('silver.sales description="a # b" # set it', ["silver.sales", "description=a # b"]),
        ("silver.sales owner='#team'", ["silver.sales", "owner=#team"]),
        ("sheet=a#b", ["sheet=a#b"]),
    ],
)
def test_a_comment_ends_a_magic_line_outside_quotes(line: str, tokens: list[str]) -> None:
    assert tokenize(line, "%rat_doc") == tokens


def test_the_pipeline_and_check_lines_take_a_comment() -> None:
    from ratatouille_jupyter.magics.check import LINE_OPTIONS
    from ratatouille_jupyter.magics.options import _pairs, strip_comment
    from ratatouille_jupyter.magics.pipeline import parse_line

    assert parse_line("retries=2   # two more tries") == ({"retries": 2}, set())
    assert parse_line("--off   # no longer a pipeline") == ({}, {"--off"})
    leading, spec = split_sql_line(strip_comment("severity=warn silver.sales fresh(ts, 24h)   # recorded"))
    assert _pairs(tokenize(" ".join(leading), "%rat_check"), LINE_OPTIONS, (), "%rat_check") == {
        "severity": "warn"
    }
    assert spec == "silver.sales fresh(ts, 24h)"
