"""Pipeline runs in real kernels: Dagster lineage, transactional failures, parameters, timeout, retries."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ratatouille.catalog import load_table
from ratatouille.cli import run as rat_cli
from ratatouille.config import Settings
from ratatouille.documenting import describe
from ratatouille.errors import InvalidInput, NotFound
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille_jupyter.pipelines import records
from ratatouille_jupyter.pipelines.cli import entry as pipelines_entry
from ratatouille_jupyter.pipelines.dagster_defs import build_definitions
from ratatouille_jupyter.pipelines.runner import expire_branches, run_pipeline
from ratatouille_jupyter.pipelines.spec import discover
from tests.pipelines.notebooks import write_notebook

pytestmark = pytest.mark.timeout(240)


def _snapshots(lh: Lakehouse, table: str) -> list[dict[str, str]]:
    t = load_table(lh.catalog, table)
    return [s.summary.additional_properties for s in t.metadata.snapshots if s.summary]


def _main_rows(lh: Lakehouse, table: str) -> int:
    return len(lh.query_arrow(f"SELECT * FROM {{{table}}}"))


def test_dagster_materializes_a_two_notebook_lineage(
    settings: Settings, examples: Path, tmp_path: Path
) -> None:
    defs = build_definitions(settings)
    defs.validate_loadable(defs)  # job, op and asset names do not clash
    graph = defs.resolve_asset_graph()
    silver = dg.AssetKey(["silver", "sales"])
    gold = dg.AssetKey(["gold", "revenue_by_region"])
    assert dg.AssetKey(["bronze", "sales"]) in graph.get(silver).parent_keys
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"ingest_sales", "transform_sales"}
    assert {s.name for s in defs.schedules or []} == {
        "ingest_sales_schedule", "transform_sales_schedule", "quality_sales_schedule",
        "rat_maintenance_schedule"}  # fmt: skip
    daily = dg.AssetKey(["silver", "sales_daily"])
    assert graph.get(daily).parent_keys == {dg.AssetKey(["bronze", "sales"])}

    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    result = dg.materialize(list(defs.assets or []), instance=instance, raise_on_error=False)  # type: ignore[arg-type]
    assert result.success
    events = result.get_asset_materialization_events()
    materialized = {e.asset_key: e.materialization.metadata for e in events}
    assert set(materialized) == {dg.AssetKey(["bronze", "sales"]), silver, gold, daily}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) >= {"positive_revenue"} and all(e.passed for e in checks.values())
    notebook = materialized[gold]["executed_notebook"]
    assert isinstance(notebook, dg.NotebookMetadataValue) and Path(notebook.value).is_file()

    lh = Lakehouse(settings)
    assert _main_rows(lh, "bronze.sales") == 40 and _main_rows(lh, "gold.revenue_by_region") == 4
    daily_rows = lh.query_arrow("SELECT sum(orders) AS n, count() AS c FROM {silver.sales_daily}").to_pylist()
    assert daily_rows[0]["n"] == _main_rows(lh, "silver.sales") and daily_rows[0]["c"] > 0
    consumed = _snapshots(lh, "silver.sales_daily")[-1]["ratatouille.consumed"]
    assert list(json.loads(consumed)) == ["bronze.sales"]
    assert describe(lh.catalog, "silver.sales_daily").owner == "sales-data"  # %rat_doc
    stamped = _snapshots(lh, "silver.sales")[-1]
    assert stamped["ratatouille.pipeline"] == "transform_sales"
    assert stamped["ratatouille.run_id"] == result.run_id
    assert stamped["ratatouille.cell"] == "4"  # the %%rat_sql cell (the markdown cell is cell 1)
    assert _snapshots(lh, "bronze.sales")[-1]["ratatouille.cell"] == "4"
    refs = load_table(lh.catalog, "silver.sales").metadata.refs
    assert list(refs) == ["main"]  # the run's branch was published, then dropped
    lh.close()


def test_a_failing_notebook_leaves_every_table_as_it_was_and_names_the_cell(
    settings: Settings, pipelines: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lh = Lakehouse(settings)
    lh.write(pa.table({"x": [1, 2, 3]}), "silver.nums")
    before = load_table(lh.catalog, "silver.nums").metadata.refs["main"].snapshot_id
    write_notebook(pipelines / "flaky.ipynb", [
        "from ratatouille import rat\nimport pandas as pd",
        'rat.ice_ingest_df(pd.DataFrame({"x": [9]}), "silver.nums")',
        'rat.ice_ingest_df(pd.DataFrame({"y": [1]}), "gold.fresh")',
        "raise RuntimeError('source is late')",
    ], pipeline={"retries": 1}, markdown_first="# flaky")  # fmt: skip
    monkeypatch.setenv("DAGSTER_HOME", str(settings.home / "dagster"))
    status = rat_cli(["pipelines", "run", "flaky"], Rat(lh))
    assert status == 1
    out = capsys.readouterr().out
    assert "pipeline flaky failed at cell 5" in out and "RuntimeError: source is late" in out
    assert "raise RuntimeError('source is late')" in out

    record = records.last_run(settings, "flaky")
    assert record is not None and record.status == "failed" and record.attempts == 2
    assert record.failed_cell == 5 and record.kept_branch == f"pipelines/flaky/{record.run_id}-2"
    executed = json.loads(Path(record.output).read_text())
    assert any(o.get("ename") == "RuntimeError" for c in executed["cells"] for o in c.get("outputs", []))

    table = load_table(lh.catalog, "silver.nums")
    assert table.metadata.refs["main"].snapshot_id == before  # main untouched, by both attempts
    assert _main_rows(lh, "silver.nums") == 3
    with pytest.raises(NotFound, match=r"gold\.fresh does not exist on main"):  # created by the run only
        _main_rows(lh, "gold.fresh")
    kept = {b for b in table.metadata.refs if b != "main"}
    assert kept == {f"pipelines/flaky/{record.run_id}", record.kept_branch}  # kept for inspection
    lh.use_branch(record.kept_branch)
    assert _main_rows(lh, "silver.nums") == 4  # what the failed run wrote
    lh.use_branch(None)
    assert len(expire_branches(lh, "flaky", keep_days=0)) == 4  # then expired: 2 attempts x 2 tables
    assert list(load_table(lh.catalog, "silver.nums").metadata.refs) == ["main"]
    lh.close()


def test_parameters_are_injected_and_unknown_ones_refused(
    settings: Settings, pipelines: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(pipelines / "params.ipynb", [
        ("n = 2\nlabel = 'a'", ["parameters"]),
        "from ratatouille import rat\nimport pandas as pd\n"  # imported in the cell that writes
        'rat.ice_ingest_df(pd.DataFrame({"i": range(n), "label": label}), "bronze.params", mode="overwrite")',
    ])  # fmt: skip
    monkeypatch.setenv("RAT_HOME", str(settings.home))
    assert pipelines_entry(["run", "params", "-p", "nn=3"]) == 2
    assert "unknown parameter(s) of 'params': nn (did you mean n?)" in capsys.readouterr().err
    lh = Lakehouse(settings)
    rat = Rat(lh)
    with pytest.raises(InvalidInput, match="n='x' is not a int"):
        rat_cli(["pipelines", "run", "params", "-p", "n=x"], rat)
    assert records.last_run(settings, "params") is None  # nothing ran
    assert rat_cli(["pipelines", "run", "params", "--no-dagster", "-p", "n=5", "-p", "label=b"], rat) == 0
    assert "published bronze.params" in capsys.readouterr().out
    df = lh.query_arrow("SELECT label, count() AS n FROM {bronze.params} GROUP BY label").to_pylist()
    assert df == [{"label": "b", "n": 5}]
    stamped = _snapshots(lh, "bronze.params")[-1]
    assert (stamped["ratatouille.pipeline"], stamped["ratatouille.cell"]) == ("params", "2")
    lh.close()


def test_timeout_stops_the_run_and_names_the_cell(settings: Settings, pipelines: Path) -> None:
    write_notebook(pipelines / "slow.ipynb", ["import time", "time.sleep(60)"], pipeline={"timeout": 4})
    record = run_pipeline(discover(settings).get("slow"), settings)
    assert record.status == "failed" and record.failed_cell == 2
    assert record.error == "timed out after 4 s" and record.source == "time.sleep(60)"
    assert record.kept_branch is None  # it wrote nothing
