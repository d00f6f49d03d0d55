"""``%%rat_sql`` / ``%rat_sql`` in an in-process shell: queries, writes, branches, preview, provenance,
parameters bound safely, and errors that are one line (user mistakes) or a traceback (bugs).
"""

from __future__ import annotations

import _thread
import re
import threading
import time
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ratatouille import rat
from ratatouille_jupyter.display import RatFrame, WriteSummary
from tests.jupyter.conftest import run_cell

TIMES = "\u00d7"
SALES = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "region": ["north", "south", "north", "it's"],
        "price": [10.0, 2.5, 4.0, 1.0],
        "qty": [1, 0, 5, 3],
    }
)


@pytest.fixture
def sales(shell: Any) -> Any:
    rat.ice_ingest_df(SALES, "bronze.sales")
    return shell


def test_query_shows_a_table_and_keeps_the_full_result(sales: Any) -> None:
    out = sales.run_cell_magic(
        "rat_sql",
        "name=by_region",
        "SELECT region, sum(qty) AS q FROM {bronze.sales}\nGROUP BY region ORDER BY region;",
    )
    assert isinstance(out, RatFrame) and isinstance(out, pd.DataFrame)
    assert out.to_dict("list") == {"region": ["it's", "north", "south"], "q": [3, 6, 0]}
    assert sales.user_ns["by_region"] is out and sales.user_ns["_sqldf"] is out
    text = sales.display_formatter.format(out)[0]
    assert text["text/plain"].startswith(f"3 rows {TIMES} 2 columns (region, q) · ")
    # The figure is exact in test_magic_cache.py; a run that fills the snapshot cache counts its bookkeeping.
    assert re.search(r" · read \d+ rows, ", text["text/plain"])
    html = text["text/html"]
    assert f"3 rows {TIMES} 2 columns" in html and "itables" in html and "Showing the first" not in html
    derived = out[out.q > 0]
    assert type(derived) is pd.DataFrame


def test_display_limit_notice_and_config(sales: Any) -> None:
    out = sales.run_cell_magic("rat_sql", "limit=2", "SELECT number FROM numbers(10)")
    data = sales.display_formatter.format(out)[0]
    assert "Showing the first 2 of 10 rows; the full result is in _sqldf." in data["text/plain"]
    assert "Showing the first 2 of 10 rows" in data["text/html"]
    assert len(out) == 10
    sales.run_line_magic("config", "RatMagics.display_limit = 3")
    sales.run_line_magic("config", "RatMagics.interactive = False")
    sales.run_line_magic("config", "RatMagics.last_var = 'last'")
    out = sales.run_line_magic("rat_sql", "SELECT number FROM numbers(10)")
    data = sales.display_formatter.format(out)[0]
    assert "Showing the first 3 of 10 rows; the full result is in last." in data["text/html"]
    assert "itables" not in data["text/html"] and "<table" in data["text/html"]
    assert sales.user_ns["last"] is out


def test_arrow_results(sales: Any) -> None:
    sales.run_line_magic("config", "RatMagics.result_type = 'arrow'")
    with capture_output() as shown:
        assert sales.run_line_magic("rat_sql", "SELECT id FROM {bronze.sales} ORDER BY id") is None
    assert isinstance(sales.user_ns["_sqldf"], pa.Table)
    assert shown.outputs[0].data["text/plain"].startswith(f"4 rows {TIMES} 1 column (id)")
    out = sales.run_line_magic("rat_sql", "result=pandas SELECT 1 AS x")
    assert isinstance(out, pd.DataFrame)


def test_parameters_are_bound_never_pasted(sales: Any) -> None:
    sales.user_ns.update(min_qty=1, region="it's", evil="x' OR '1'='1")
    out = sales.run_cell_magic(
        "rat_sql", "", "SELECT id FROM {bronze.sales} WHERE qty >= {min_qty} AND region = {region}"
    )
    assert out.id.tolist() == [4]
    assert (
        sales.run_line_magic("rat_sql", "SELECT count() AS n FROM {bronze.sales} WHERE region = {evil}").n[0]
        == 0
    )
    tricky = "a'b\"c\\d\ne\t{x} ; DROP TABLE t --"
    sales.user_ns["tricky"] = tricky
    assert sales.run_line_magic("rat_sql", "SELECT {tricky} AS v").v[0] == tricky
    sales.user_ns["ids"] = [1, 3]
    assert sales.run_line_magic(
        "rat_sql", "SELECT id FROM {bronze.sales} WHERE id IN {ids} ORDER BY id"
    ).id.tolist() == [1, 3]


def test_writes_show_what_happened_and_stamp_provenance(sales: Any) -> None:
    sales.run_line_magic("config", "RatMagics.notebook = 'work/tutorial.ipynb'")
    sales.user_ns["min_qty"] = 1
    cell = (
        "%%rat_sql target=silver.sales merge_keys=id name=w\n"
        "SELECT *, price * qty AS total FROM {bronze.sales} WHERE qty >= {min_qty}"
    )
    number = sales.execution_count
    out = run_cell(sales, cell, cell_id="cell-abc")
    assert isinstance(out, WriteSummary) and sales.user_ns["w"] is out
    assert (out["mode"], out["inserted"], out["updated"], out["branch"]) == ("merge", 3, 0, "main")
    line = sales.display_formatter.format(out)[0]["text/plain"]
    assert line.startswith("merge into silver.sales on main: 3 inserted, 0 updated · snapshot ")
    assert "table created" in line
    history = rat.ice_history("silver.sales")
    assert history.notebook.iloc[-1] == "work/tutorial.ipynb"
    assert history.cell.iloc[-1] == f"In[{number}] cell-abc"
    assert rat.session.context == {}

    again = sales.run_cell_magic(
        "rat_sql",
        "target=silver.sales merge_keys=id",
        "SELECT *, price * qty * 2 AS total FROM {bronze.sales}",
    )
    assert (again["inserted"], again["updated"]) == (1, 3)
    appended = sales.run_cell_magic(
        "rat_sql", "target=gold.n mode=append", "SELECT count() AS n FROM {silver.sales}"
    )
    assert appended["rows"] == 1 and appended["mode"] == "append"
    overwritten = sales.run_cell_magic("rat_sql", "target=gold.n", "SELECT 7 AS n")
    assert overwritten["mode"] == "overwrite"
    assert rat.df("gold.n").n.tolist() == [7]


def test_branch_option_runs_one_cell_on_a_branch(sales: Any) -> None:
    sales.run_cell_magic("rat_sql", "target=silver.s", "SELECT id FROM {bronze.sales}")
    written = sales.run_cell_magic("rat_sql", "target=silver.s mode=append branch=dev", "SELECT 99 AS id")
    assert written["branch"] == "dev"
    assert rat.session.branch == "main"
    assert len(rat.df("silver.s")) == 4
    on_dev = sales.run_cell_magic("rat_sql", "branch=dev", "SELECT count() AS n FROM {silver.s}")
    assert on_dev.n[0] == 5
    assert "branch dev" in sales.display_formatter.format(on_dev)[0]["text/plain"]


def test_preview_shows_the_sql_without_running_it(sales: Any) -> None:
    sales.user_ns["min_qty"] = 2
    out = sales.run_cell_magic(
        "rat_sql",
        "--preview target=gold.x merge_keys=id",
        "SELECT * FROM {bronze.sales} WHERE qty > {min_qty}",
    )
    text = sales.display_formatter.format(out)[0]["text/plain"]
    assert "file(" in out and "{bronze.sales}" not in out and "WHERE qty > {min_qty:Int64}" in out
    assert "-- {min_qty:Int64} = 2" in text
    assert "-- would write to gold.x (merge on id) on branch main" in text
    assert "gold" not in rat.ice_namespaces()


@pytest.mark.parametrize(
    ("line", "cell", "message"),
    [
        ("", "SELECT * FROM {bronze.nope}", "table bronze.nope does not exist; did you mean bronze.sales?"),
        ("", "SELECT *\nFROM {bronze.sales}\nWHERE qtyy > 1", "[SQL line 3: WHERE qtyy > 1]"),
        ("", "SELEC 1", "Syntax error"),
        ("", "SELECT 1; SELECT 2", "one SQL statement per cell"),
        ("", "  \n ;", "there is no SQL to run"),
        ("", "SELECT {not_defined}", "there is no notebook variable 'not_defined'"),
        ("target=silver.x mode=merge merge_keys=id", "SELECT 1 AS other", "id"),
        ("target=temp.x", "SELECT 1", "temp"),
        ("bogus=1", "SELECT 1", "unknown %%rat_sql option 'bogus'"),
    ],
)
def test_user_mistakes_are_one_line(sales: Any, line: str, cell: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        sales.run_cell_magic("rat_sql", line, cell)
    assert message in str(e.value)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400


def test_usage_error_prints_one_line_in_a_cell(sales: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = sales.run_cell("%%rat_sql\nSELECT * FROM {bronze.nope}")
    assert isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "UsageError: table bronze.nope does not exist; did you mean bronze.sales?"
    ]


def test_a_bug_keeps_its_traceback(sales: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        return 1 / 0

    monkeypatch.setattr(rat.session, "query_arrow", broken)
    with pytest.raises(ZeroDivisionError):
        sales.run_line_magic("rat_sql", "SELECT 1")


def test_interrupt_cancels_the_query_and_the_kernel_stays_usable(sales: Any) -> None:
    sales.run_line_magic("config", "RatMagics.progress_delay = 0.1")
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    with (
        capture_output() as shown,
        pytest.raises(UsageError, match=r"cancelled after .* rows read: nothing was written"),
    ):
        sales.run_cell_magic(
            "rat_sql", "target=gold.big", "SELECT sum(number) AS s FROM numbers(1000000000000)"
        )
    timer.join()
    progress = [o.data["text/plain"] for o in shown.outputs if o.data.get("text/plain")]
    assert any("rows read" in p and "interrupt the kernel to cancel" in p for p in progress)
    assert "gold" not in rat.ice_namespaces()
    assert sales.run_line_magic("rat_sql", "SELECT 1 AS x").x[0] == 1


def test_an_interrupt_after_the_commit_says_the_write_happened(
    sales: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transform = rat.session.transform

    def slow_after_commit(*args: Any, **kwargs: Any) -> Any:
        result = transform(*args, **kwargs)
        time.sleep(1.5)  # the interrupt lands here, after the commit
        return result

    monkeypatch.setattr(rat.session, "transform", slow_after_commit)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    out = sales.run_cell_magic("rat_sql", "target=gold.t", "SELECT 1 AS x")
    timer.join()
    assert out["note"] == "the interrupt came after the write was committed"
    assert "too late" in capsys.readouterr().out
    assert rat.df("gold.t").x.tolist() == [1]


def test_reload_keeps_the_session_and_the_options(sales: Any) -> None:
    import ratatouille

    sales.run_line_magic("config", "RatMagics.display_limit = 7")
    rat.session.use_branch("dev")
    try:
        sales.run_line_magic("reload_ext", "ratatouille")
        assert ratatouille.rat is rat and sales.user_ns["rat"] is rat
        assert rat.session.branch == "dev"
        out = sales.run_line_magic("rat_sql", "SELECT number FROM numbers(10)")
        assert out.rat_info.limit == 7
    finally:
        rat.session.use_branch(None)


def test_line_form_without_sql(sales: Any) -> None:
    with pytest.raises(UsageError, match="there is no SQL to run: %rat_sql SELECT"):
        sales.run_line_magic("rat_sql", "limit=3")


def test_a_pipeline_context_keeps_its_own_stamps(sales: Any) -> None:
    rat.session.context.update({"notebook": "pipelines/daily.ipynb", "cell": "7", "run_id": "r1"})
    try:
        sales.run_cell_magic("rat_sql", "target=gold.p", "SELECT 1 AS x")
        last = rat.ice_history("gold.p").iloc[-1]
        assert (last.notebook, last.cell, last.run_id) == ("pipelines/daily.ipynb", "7", "r1")
        assert rat.session.context == {"notebook": "pipelines/daily.ipynb", "cell": "7", "run_id": "r1"}
    finally:
        rat.session.context.clear()


def test_incremental_cell_reads_new_rows_once(sales: Any) -> None:
    cell = "SELECT id, qty FROM {bronze.sales@new}"
    first = sales.run_cell_magic("rat_sql", "target=silver.inc mode=append", cell)
    assert first["rows"] == 4
    rat.ice_ingest_df(SALES.assign(id=SALES.id + 10), "bronze.sales")
    shown = sales.run_cell_magic("rat_sql", "target=silver.inc mode=append --preview", cell)
    assert "{bronze.sales@new}" not in str(shown)
    assert sales.run_cell_magic("rat_sql", "target=silver.inc mode=append", cell)["rows"] == 4
    assert sales.run_cell_magic("rat_sql", "target=silver.inc mode=append", cell)["rows"] == 0
    assert rat.query("SELECT count() AS n FROM {silver.inc}")["n"].tolist() == [8]
    with pytest.raises(UsageError, match="plain query"):
        sales.run_cell_magic("rat_sql", "", cell)


def test_chart_option_shows_vega_lite_and_keeps_the_result(sales: Any) -> None:
    from ratatouille.charts import VEGALITE_MIME

    with capture_output() as shown:
        out = sales.run_cell_magic(
            "rat_sql", "chart=bar x=region y=price name=priced", "SELECT region, price FROM {bronze.sales}"
        )
    assert out is None
    assert isinstance(sales.user_ns["priced"], RatFrame) and len(sales.user_ns["_sqldf"]) == 4
    [output] = shown.outputs
    spec = output.data[VEGALITE_MIME]
    assert spec["mark"]["type"] == "bar"
    assert {v["region"]: v["sum of price"] for v in spec["data"]["values"]}["north"] == 14.0
    assert output.metadata[VEGALITE_MIME] == {"embed_options": {"renderer": "svg"}}
    text = output.data["text/plain"]
    assert text.startswith(f"4 rows {TIMES} 2 columns (region, price)")
    assert "the result is in priced and _sqldf" in text
    assert text.endswith("bar chart of 4 rows: sum of price by region (4 rows aggregated to 3 bars)")


def test_chart_option_with_arrow_results_and_every_kind(sales: Any) -> None:
    from ratatouille.charts import KINDS, VEGALITE_MIME

    for kind in KINDS:
        y = "" if kind == "histogram" else "y=qty"
        with capture_output() as shown:
            sales.run_cell_magic(
                "rat_sql", f"result=arrow chart={kind} x=price {y}", "SELECT * FROM {bronze.sales}"
            )
        assert shown.outputs[0].data[VEGALITE_MIME]["data"]["values"], kind
    assert isinstance(sales.user_ns["_sqldf"], pa.Table)


def test_chart_errors_name_the_columns(sales: Any) -> None:
    with pytest.raises(
        UsageError, match=r"x=regio: no such column \(did you mean region\?\); the columns are: id, region"
    ):
        sales.run_cell_magic("rat_sql", "chart=bar x=regio", "SELECT * FROM {bronze.sales}")
    with pytest.raises(UsageError, match="y=region is summed per x, so it must be numeric"):
        sales.run_cell_magic("rat_sql", "chart=line x=id y=region", "SELECT * FROM {bronze.sales}")
    assert len(sales.user_ns["_sqldf"]) == 4  # the result is kept all the same


def test_results_carry_a_sample_for_the_chart_toggle(sales: Any) -> None:
    from ratatouille.charts import RESULT_MIME

    out = sales.run_cell_magic("rat_sql", "", "SELECT * FROM {bronze.sales} ORDER BY id")
    data, _ = sales.display_formatter.format(out)
    sample = data[RESULT_MIME]
    assert {"text/html", "text/plain"} <= set(data)
    assert [c["name"] for c in sample["columns"]] == ["id", "region", "price", "qty"]
    assert sample["columns"][2]["vl"] == "quantitative"
    assert sample["rows"][0] == {"id": 1, "region": "north", "price": 10.0, "qty": 1}
    assert sample["total"] == 4 and sample["note"] == ""
    assert sample["summary"].startswith(f"4 rows {TIMES} 4 columns")
    with capture_output() as shown:
        sales.run_cell_magic("rat_sql", "result=arrow", "SELECT * FROM {bronze.sales}")
    assert shown.outputs[0].data[RESULT_MIME]["total"] == 4
    run_cell(sales, "%config RatMagics.chart_toggle = False")
    out = sales.run_cell_magic("rat_sql", "", "SELECT * FROM {bronze.sales}")
    assert RESULT_MIME not in sales.display_formatter.format(out)[0]
    assert RESULT_MIME not in sales.display_formatter.format(out.head(0))[0]
