"""Data-quality checks in pipeline runs: error checks gate the publish, warn checks are recorded,
Dagster reports them as asset checks; table docs reach Dagster's assets."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ratatouille.catalog import load_table
from ratatouille.cli import run as rat_cli
from ratatouille.config import Settings
from ratatouille.errors import NotFound
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille_jupyter.pipelines import records
from ratatouille_jupyter.pipelines.runner import run_pipeline
from ratatouille_jupyter.pipelines.spec import discover
from tests.pipelines.notebooks import write_notebook

pytestmark = pytest.mark.timeout(240)

WRITE = (
    "%load_ext ratatouille\nfrom ratatouille import rat\nimport pandas as pd\n"
    'rat.ice_ingest_df(pd.DataFrame({"id": [1, 2, 2, 3], "total": [5.0, -1.0, 2.0, 4.0]}), "silver.orders")'
)


def _head(lh: Lakehouse, table: str) -> int | None:
    ref = load_table(lh.catalog, table).metadata.refs.get("main")
    return None if ref is None else ref.snapshot_id


def test_a_failing_error_check_stops_the_run_before_it_publishes(
    settings: Settings, pipelines: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lh = Lakehouse(settings)
    lh.write(pa.table({"id": [7], "total": [1.0]}), "silver.orders")
    before = _head(lh, "silver.orders")
    write_notebook(pipelines / "gated.ipynb", [
        WRITE,
        "%rat_check silver.orders not_null(id) unique(id)",
        "%%rat_check table=silver.orders severity=warn name=no_negative_totals\n"
        "SELECT id, total FROM {silver.orders} WHERE total < 0",
        "done = True",
    ])  # fmt: skip
    monkeypatch.setenv("DAGSTER_HOME", str(settings.home / "dagster"))
    assert rat_cli(["pipelines", "run", "gated", "--no-dagster"], Rat(lh)) == 1
    out = capsys.readouterr().out
    assert "1 error check(s) failed: unique(id) on silver.orders (1 violating)" in out
    assert "3 checks: 1 failed, 1 warnings, 1 passed" in out
    assert "✗ unique(id) · silver.orders · 1 violating row · error" in out
    assert '{"id": 2, "duplicates": 2}' in out

    record = records.last_run(settings, "gated")
    assert record is not None and record.status == "failed" and record.failed_cell is None
    assert record.kept_branch == f"pipelines/gated/{record.run_id}"
    by_name = {c["name"]: c for c in record.checks}
    assert set(by_name) == {"not_null(id)", "unique(id)", "no_negative_totals"}
    assert by_name["unique(id)"]["status"] == "fail" and by_name["unique(id)"]["count"] == 1
    assert by_name["unique(id)"]["sample"] == [{"id": 2, "duplicates": 2}]
    assert by_name["no_negative_totals"]["status"] == "warn"
    assert by_name["not_null(id)"]["passed"] is True
    assert all(c["branch"] == record.kept_branch for c in record.checks)
    assert _head(lh, "silver.orders") == before  # main unchanged
    assert len(lh.query_arrow("SELECT * FROM {silver.orders}")) == 1
    assert record.kept_branch in load_table(lh.catalog, "silver.orders").metadata.refs  # kept
    lh.close()


def test_warn_checks_are_recorded_and_the_run_publishes(settings: Settings, pipelines: Path) -> None:
    write_notebook(pipelines / "warned.ipynb", [
        WRITE,
        'rat.check("silver.orders not_null(id) row_count(>0)")',
        'rat.check("SELECT * FROM {silver.orders} WHERE total < 0", severity="warn", name="negative")',
    ])  # fmt: skip
    record = run_pipeline(discover(settings).get("warned"), settings)
    assert record.ok and set(record.published) == {"silver.orders"}
    assert [(c["name"], c["status"]) for c in record.checks] == [
        ("not_null(id)", "pass"), ("row_count(>0)", "pass"), ("negative", "warn")]  # fmt: skip
    assert record.checks[2]["sample"] == [{"id": 2, "total": -1.0}]
    loaded = records.load_run(settings, "warned", record.run_id)
    assert loaded is not None and loaded.checks == record.checks


def test_static_analysis_finds_the_checks_and_the_description(settings: Settings, pipelines: Path) -> None:
    write_notebook(pipelines / "found.ipynb", [
        WRITE,
        "%rat_check severity=warn silver.orders not_null(id) unique(id)",
        "%%rat_check table=silver.orders name=positive\nSELECT * FROM {silver.orders} WHERE total < 0",
        'rat.check("SELECT * FROM {silver.orders} WHERE id > 9", severity="warn")',
        "rat.check(computed)",
    ], markdown_first="# Orders\nCleaned orders, one row per order.")  # fmt: skip
    spec = discover(settings).get("found")
    assert spec.description == "# Orders\nCleaned orders, one row per order."
    names = [(t, n, s) for t, n, s in spec.checks]
    assert names[:3] == [("silver.orders", "not_null(id)", "warn"), ("silver.orders", "unique(id)", "warn"),
                         ("silver.orders", "positive", "error")]  # fmt: skip
    assert names[3][1].startswith("sql_") and names[3][2] == "warn"
    assert any("computed at run time" in w for w in spec.warnings)


def test_dagster_reports_asset_checks_and_table_docs(
    settings: Settings, pipelines: Path, tmp_path: Path
) -> None:
    from ratatouille.documenting import describe, document
    from ratatouille_jupyter.pipelines.dagster_defs import build_definitions

    lh = Lakehouse(settings)
    lh.write(pa.table({"k": [1], "email": ["a@b.c"]}), "silver.people")
    document(
        lh.catalog, "silver.people", description="People we know.", owner="ana", tags=["crm"], pii=["email"]
    )
    write_notebook(pipelines / "docs.ipynb", [
        WRITE + '\nrat.ice_ingest_df(pd.DataFrame({"k": [2], "email": ["x@y.z"]}), "silver.people")',
        "%rat_check severity=warn silver.orders unique(id)",
        'rat.check("silver.orders not_null(id)")',
    ], markdown_first="Cleaned orders.")  # fmt: skip
    defs = build_definitions(settings)
    orders, people = dg.AssetKey(["silver", "orders"]), dg.AssetKey(["silver", "people"])
    graph = defs.resolve_asset_graph()
    assert graph.get(orders).description == "Cleaned orders."  # no table yet: the first Markdown cell
    assert graph.get(people).description == "People we know."
    meta = graph.get(people).metadata
    assert meta["owner"] == "ana" and meta["tags"].value == ["crm"] and meta["pii_columns"].value == ["email"]
    assert {c.name for c in graph.asset_check_keys} == {"unique_id", "not_null_id"}

    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    result = dg.materialize(list(defs.assets or []), instance=instance, raise_on_error=False)  # type: ignore[arg-type]
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"unique_id", "not_null_id"}
    unique = evaluations["unique_id"]
    assert unique.asset_key == orders and not unique.passed and unique.severity == dg.AssetCheckSeverity.WARN
    assert unique.metadata["count"].value == 1 and unique.metadata["sample"].value == [
        {"id": 2, "duplicates": 2}
    ]
    assert (
        evaluations["not_null_id"].passed
        and evaluations["not_null_id"].severity == dg.AssetCheckSeverity.ERROR
    )
    assert describe(lh.catalog, "silver.orders").description == "Cleaned orders."  # set on publish
    assert describe(lh.catalog, "silver.people").description == "People we know."  # kept
    lh.close()


def test_a_failing_error_check_fails_the_dagster_run_with_its_evaluation(
    settings: Settings, pipelines: Path, tmp_path: Path
) -> None:
    from ratatouille_jupyter.pipelines.dagster_defs import build_definitions

    write_notebook(pipelines / "bad.ipynb", [WRITE, "%rat_check silver.orders unique(id)"])
    defs = build_definitions(settings)
    (tmp_path / "dagster").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))
    result = dg.materialize(list(defs.assets or []), instance=instance, raise_on_error=False)  # type: ignore[arg-type]
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "unique_id" and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert not result.get_asset_materialization_events()
    lh = Lakehouse(settings)
    with pytest.raises(NotFound, match="exists on branch pipelines/bad/"):  # created on the run's branch only
        load_table(lh.catalog, "silver.orders")
    lh.close()
