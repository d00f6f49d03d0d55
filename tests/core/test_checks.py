"""Data-quality checks on each setup: the shortcuts (pass and fail, exact counts and samples), SQL checks,
the session's branch, the stored last results, quoting, and bad input (one clear error, nothing stored).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.checks import CheckResult, last_results, parse_spec
from ratatouille.checks.store import checks_folder
from ratatouille.errors import CheckFailed, EngineError, InvalidInput, NotFound
from ratatouille.session import Lakehouse

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Rat:
    """``silver.orders``: a NULL id, a duplicated id, a value with a quote, a column needing quotes."""
    r = Rat(lakehouse)
    orders = pd.DataFrame(
        {
            "id": pd.array([1, 2, 2, 3, None], dtype="Int64"),
            "region": ["north", "south", "it's", None, "west"],
            "order total": [10.0, None, 5.0, 1.0, 2.0],
            "order_ts": [NOW - dt.timedelta(hours=1), NOW - dt.timedelta(days=3)]
            + [NOW - dt.timedelta(days=2)] * 3,
            "day": [dt.date(2024, 1, 1)] * 5,
        }
    )
    r.ice_ingest_df(orders, "silver.orders")
    return r


def one(r: Rat, spec: str, **kwargs: object) -> CheckResult:
    results = r.check(spec, **kwargs)  # type: ignore[arg-type]
    assert len(results) == 1
    return results[0]


def rows(result: CheckResult) -> list[dict[str, object]]:
    return result.sample.to_pylist()


def head_snapshot(r: Rat, table: str) -> int | None:
    """The head of ``table`` on the session's branch."""
    return r.session.resolve(table).snapshot_id


def test_not_null(rat: Rat) -> None:
    result = one(rat, "silver.orders not_null(id)")
    assert (result.name, result.table, result.severity) == ("not_null(id)", "silver.orders", "error")
    assert not result.passed and result.count == 1 and result.status == "fail"
    assert [(r["id"], r["region"]) for r in rows(result)] == [(None, "west")]
    assert result.snapshot_id == head_snapshot(rat, "silver.orders") and result.branch == "main"
    passed = one(rat, "silver.orders not_null(day, order_ts)")
    assert passed.passed and passed.count == 0 and passed.sample.num_rows == 0
    assert passed.name == "not_null(day, order_ts)"


def test_unique_leaves_nulls_to_not_null(rat: Rat) -> None:
    result = one(rat, "silver.orders unique(id)")
    assert result.count == 1 and rows(result) == [{"id": 2, "duplicates": 2}]
    assert one(rat, "silver.orders unique(id, region)").passed
    assert one(rat, "silver.orders unique(region)").passed  # one NULL region, no duplicate


def test_accepted_values_allows_null_and_quotes_values(rat: Rat) -> None:
    result = one(rat, "silver.orders accepted_values(region, ['north', 'south', 'west'])")
    assert result.name == "accepted_values(region)"
    assert result.count == 1 and [r["region"] for r in rows(result)] == ["it's"]
    passed = one(rat, """silver.orders accepted_values(region, ['north', 'south', 'west', 'it\\'s'])""")
    assert passed.passed and passed.count == 0
    assert one(rat, "silver.orders accepted_values(region, 'north', 'south', 'west', 'it''s')").passed
    numbers = one(rat, "silver.orders accepted_values(id, [1, 2])")
    assert numbers.count == 1 and [r["id"] for r in rows(numbers)] == [3]


def test_row_count(rat: Rat) -> None:
    assert one(rat, "silver.orders row_count(>0)").passed
    assert one(rat, "silver.orders row_count(= 5)").passed
    failed = one(rat, "silver.orders row_count(>=100)")
    assert failed.name == "row_count(>=100)" and failed.count == 1 and rows(failed) == [{"row_count": 5}]


def test_fresh(rat: Rat) -> None:
    assert one(rat, "silver.orders fresh(order_ts, 24h)").passed
    assert one(rat, "silver.orders fresh(order_ts, 90m)").passed
    stale = one(rat, "silver.orders fresh(order_ts, 30m)")
    assert stale.name == "fresh(order_ts, 30m)" and stale.count == 1
    assert list(rows(stale)[0]) == ["latest"]
    assert one(rat, "silver.orders fresh(day, 7d)").count == 1  # a date column
    rat.ice_ingest_df(pd.DataFrame({"ts": pd.Series([], dtype="datetime64[us]")}), "silver.empty")
    empty = one(rat, "silver.empty fresh(ts, 7d)")
    assert not empty.passed and empty.count == 1 and empty.snapshot_id is not None
    assert not one(rat, "silver.empty row_count(>0)").passed


def test_a_spec_runs_every_shortcut_in_order(rat: Rat) -> None:
    spec = (
        "silver.orders not_null(id) unique(id) accepted_values(region, ['north','south','west']) "
        "row_count(>0) fresh(order_ts, 24h)"
    )
    results = rat.check(spec, severity="warn")
    assert [(r.name, r.count, r.status) for r in results] == [
        ("not_null(id)", 1, "warn"),
        ("unique(id)", 1, "warn"),
        ("accepted_values(region)", 1, "warn"),
        ("row_count(>0)", 0, "pass"),
        ("fresh(order_ts, 24h)", 0, "pass"),
    ]


def test_a_column_needing_quotes(rat: Rat) -> None:
    result = one(rat, "silver.orders not_null(`order total`)")
    assert result.name == "not_null(order total)" and result.count == 1 and rows(result)[0]["id"] == 2
    assert one(rat, 'silver.orders unique("order total")').passed


def test_sql_checks(rat: Rat) -> None:
    sql = "SELECT id, `order total` FROM {silver.orders} WHERE `order total` < 3 ORDER BY id"
    result = one(rat, sql, name="small_totals", severity="warn")
    assert (result.name, result.table, result.severity, result.sql) == (
        "small_totals",
        "silver.orders",
        "warn",
        sql,
    )
    assert result.count == 2 and rows(result) == [
        {"id": 3, "order total": 1.0},
        {"id": None, "order total": 2.0},
    ]
    unnamed = one(rat, "SELECT * FROM {silver.orders} WHERE id > 100;")
    assert unnamed.passed and unnamed.name.startswith("sql_") and unnamed.sql.endswith("id > 100")
    # Many violating rows: all counted, ten kept.
    rat.ice_ingest_df(pd.DataFrame({"n": range(25)}), "bronze.numbers")
    many = one(rat, "SELECT n FROM {bronze.numbers} ORDER BY n", table="bronze.numbers")
    assert many.count == 25 and many.sample.num_rows == 10 and rows(many)[-1] == {"n": 9}
    joined = one(
        rat,
        "SELECT o.id FROM {silver.orders} AS o LEFT ANTI JOIN {bronze.numbers} AS b ON o.id = b.n",
        table="silver.orders",
    )
    # ids 1-3 are numbers; the NULL id matches nothing
    assert joined.count == 1 and rows(joined) == [{"id": None}]
    with pytest.raises(CheckFailed) as failed:
        rat.check("SELECT n FROM {bronze.numbers}", raise_on_error=True)
    assert "1 error check(s) failed on bronze.numbers" in str(failed.value)
    assert [r.count for r in failed.value.results] == [25]  # type: ignore[attr-defined]
    assert rat.check("SELECT n FROM {bronze.numbers}", severity="warn", raise_on_error=True)[0].count == 25


def test_checks_read_the_sessions_branch(rat: Rat) -> None:
    with rat.dev_context("cleanup"):
        rat.ice_delete("silver.orders", "id IS NULL")
        on_branch = one(rat, "silver.orders not_null(id)")
        assert on_branch.passed and on_branch.branch == "cleanup"
        branch_head = rat.session.resolve("silver.orders").snapshot_id
        assert on_branch.snapshot_id == branch_head
        rat.ice_ingest_df(pd.DataFrame({"x": [1, 1]}), "silver.branch_only")
        assert one(rat, "silver.branch_only unique(x)").count == 1
    on_main = one(rat, "silver.orders not_null(id)")
    assert on_main.count == 1 and on_main.branch == "main"
    assert on_main.snapshot_id == head_snapshot(rat, "silver.orders") != branch_head
    with pytest.raises(NotFound, match="branch_only"):
        rat.check("silver.branch_only unique(x)")


def test_results_are_stored_and_read_back(rat: Rat) -> None:
    assert rat.check_results().empty
    rat.check("silver.orders not_null(id) row_count(>0)")
    rat.check("SELECT 1 AS x FROM {silver.orders} LIMIT 0", name="nothing")
    frame = rat.check_results("silver.orders")
    assert frame.name.tolist() == ["not_null(id)", "nothing", "row_count(>0)"]
    assert frame.status.tolist() == ["fail", "pass", "pass"] and frame["count"].tolist() == [1, 0, 0]
    assert frame.snapshot_id.tolist() == [head_snapshot(rat, "silver.orders")] * 3
    assert frame["sample"][0][0]["region"] == "west"
    assert str(frame.checked_at.dt.tz) == "UTC"
    path = checks_folder(rat.settings) / "silver.orders.json"
    assert json.loads(path.read_text())["table"] == "silver.orders"
    assert not list(path.parent.glob("*.tmp"))
    # A new run replaces the result of its check only.
    rat.ice_delete("silver.orders", "id IS NULL")
    rat.check("silver.orders not_null(id)")
    stored = {r["name"]: r for r in last_results(rat.settings, "silver.orders")}
    assert stored["not_null(id)"]["passed"] and stored["not_null(id)"]["count"] == 0
    assert set(stored) == {"not_null(id)", "nothing", "row_count(>0)"}
    rat.ice_ingest_df(pd.DataFrame({"n": [1]}), "bronze.other")
    rat.check("bronze.other not_null(n)")
    assert rat.check_results().table.tolist() == ["bronze.other"] + ["silver.orders"] * 3
    assert rat.check_results("bronze.nothing_yet").empty


def test_a_store_that_cannot_be_written_is_a_warning(rat: Rat) -> None:
    folder = checks_folder(rat.settings)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    with pytest.warns(UserWarning, match="were not stored"):
        result = one(rat, "silver.orders not_null(id)")
    assert result.count == 1


BAD = [
    ("silver.nope not_null(id)", {}, NotFound, r"check not_null\(id\): .*silver\.nope"),
    (
        "silver.orders not_null(nope)",
        {},
        InvalidInput,
        r"check not_null\(nope\): silver.orders has no column 'nope'",
    ),
    ("silver.orders unique(regoin)", {}, InvalidInput, r"no column 'regoin' \(did you mean region\?\)"),
    (
        "silver.orders not_nul(id)",
        {},
        InvalidInput,
        r"unknown check not_nul\(id\) \(did you mean not_null\?\)",
    ),
    ("silver.orders not_null(id) unique(", {}, InvalidInput, r"unique\(: the parenthesis is not closed"),
    ("silver.orders not_null()", {}, InvalidInput, r"not_null\(\): name at least one column"),
    ("silver.orders accepted_values(region)", {}, InvalidInput, r"accepted_values\(region\): write"),
    ("silver.orders accepted_values(region, [north])", {}, InvalidInput, r"string or number literals"),
    ("silver.orders accepted_values(region, ['a)", {}, InvalidInput, r"cannot read the check spec"),
    ("silver.orders row_count(0)", {}, InvalidInput, r"row_count\(0\): expected a comparison"),
    ("silver.orders fresh(order_ts, 24)", {}, InvalidInput, r"fresh\(order_ts, 24\): expected a duration"),
    (
        "silver.orders fresh(region, 1h)",
        {},
        InvalidInput,
        r"column 'region' of silver.orders is string, not a date",
    ),
    ("silver.orders", {}, InvalidInput, r"no check for silver.orders"),
    ("silver.orders not_null(id) id", {}, InvalidInput, r"expected a check such as not_null\(id\), got 'id'"),
    ("silver.orders not_null(id)", {"severity": "fatal"}, InvalidInput, r"severity='fatal' is not one of"),
    ("silver.orders not_null(id) unique(id)", {"name": "x"}, InvalidInput, r"name= names one check"),
    ("silver.orders@main not_null(id)", {}, InvalidInput, r"checks read the session's branch"),
    ("SELECT 1", {}, InvalidInput, r"name the table the check is about with table="),
    (
        "SELECT * FROM {silver.orders}",
        {"table": "bronze.other"},
        InvalidInput,
        r"does not read \{bronze.other\}",
    ),
    ("SELECT 1; SELECT 2", {"table": "silver.orders"}, InvalidInput, r"one SQL statement"),
    (
        "SELECT nope FROM {silver.orders}",
        {"name": "bad_sql"},
        EngineError,
        r"^check bad_sql on silver.orders: .*nope",
    ),
]


@pytest.mark.parametrize(("spec", "kwargs", "error", "message"), BAD, ids=[b[0] + str(b[1]) for b in BAD])
def test_bad_input_is_one_clear_error_and_stores_nothing(
    rat: Rat, spec: str, kwargs: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        rat.check(spec, **kwargs)
    assert rat.check_results().empty
    assert not checks_folder(rat.settings).exists()


def test_an_engine_error_names_the_line_of_the_check(rat: Rat) -> None:
    with pytest.raises(EngineError) as raised:
        rat.check("SELECT id\nFROM {silver.orders}\nWHERE nope > 1", name="lines")
    assert raised.value.line == 3 and raised.value.sql == "SELECT id\nFROM {silver.orders}\nWHERE nope > 1"


def test_parse_spec_quotes_every_name_and_value() -> None:
    checks = parse_spec("a.b accepted_values(`we``ird`, ['x\\'; DROP TABLE t; --'])")
    assert checks[0].sql == (
        "SELECT * FROM {a.b} WHERE `we`ird` IS NOT NULL AND `we`ird` NOT IN ('x\\'; DROP TABLE t; --')"
    ).replace("`we`ird`", "`we\\`ird`")
    assert checks[0].columns == ("we`ird",)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_spec("a.b row_count(!=3)")[0].name == "row_count(!=3)"


def _save_many(home: str, worker: int) -> None:
    import pyarrow as pa

    from ratatouille.checks.model import CheckResult
    from ratatouille.checks.store import save_results
    from ratatouille.config import Settings

    settings = Settings.for_home(home)
    for i in range(15):
        result = CheckResult(
            f"w{worker}_{i}", "silver.locked", "error", True, 0, pa.table({}), "SELECT 1", 0.0, None
        )
        save_results(settings, [result])


def test_writers_of_several_processes_lose_no_result(tmp_path: Path) -> None:
    import multiprocessing

    from ratatouille.checks.store import last_results
    from ratatouille.config import Settings

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_save_many, args=(str(tmp_path), w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    names = {row["name"] for row in last_results(Settings.for_home(tmp_path), "silver.locked")}
    assert names == {f"w{w}_{i}" for w in range(4) for i in range(15)}
