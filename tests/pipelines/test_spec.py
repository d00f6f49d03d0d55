"""Reading pipeline notebooks statically: metadata, parameters, lineage, discovery (no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput, NotFound
from ratatouille_jupyter.pipelines.cli import main as cli_main
from ratatouille_jupyter.pipelines.layout import pipelines_dir, run_branch
from ratatouille_jupyter.pipelines.lineage import analyse
from ratatouille_jupyter.pipelines.metadata import PipelineConfig, check_cron, write_pipeline_metadata
from ratatouille_jupyter.pipelines.params import parse_assignments, resolve
from ratatouille_jupyter.pipelines.spec import discover, load_spec
from tests.pipelines.notebooks import write_notebook


def _cells(*sources: str) -> list[tuple[int, str]]:
    return list(enumerate(sources, start=1))


def test_writes_and_reads_are_found_in_every_form() -> None:
    lineage = analyse(_cells(
        'target = "gold.kpis"',
        "%rat_ingest landing/a.csv bronze.a mode=overwrite",
        "%%rat_sql target=silver.b merge_keys=id\nSELECT * FROM {bronze.a} JOIN {raw.ext@main} USING (id)",
        '%rat_sql target="silver.c" SELECT 1 FROM {bronze.a}',
        'rat.transform("SELECT * FROM {silver.b}", target)\nrat.ice_merge(df, "silver.d", ["id"])',
        'rat.ice_ingest("x.csv", table="bronze.e")\nrat.ice_ingest_df(df, "bronze.f")',
        'rat.t("silver.b").group_by("x").to_iceberg("gold.g")\nrat.to_iceberg(expr, "gold.h")',
        '%%time\nx = rat.df("raw.users")\nrat.ice_read("raw.orders")',
        'sql = "SELECT {temp.t}, \'{not.a_ref}\' FROM {raw.events}"',
    ))  # fmt: skip
    assert set(lineage.writes) == {"bronze.a", "silver.b", "silver.c", "gold.kpis", "silver.d", "bronze.e",
                                   "bronze.f", "gold.g", "gold.h"}  # fmt: skip
    assert lineage.writes["silver.b"] == 3
    assert lineage.upstream == ["raw.events", "raw.ext", "raw.orders", "raw.users"]
    assert lineage.warnings == []


def test_what_cannot_be_told_statically_is_a_warning_naming_the_cell() -> None:
    lineage = analyse(_cells('rat.transform("SELECT 1", f"gold.{name}")', "def broken(:\n  pass"))
    assert lineage.writes == {}
    assert lineage.warnings[0].startswith("cell 1: the table written by rat.transform is computed at run")
    assert lineage.warnings[1].startswith("cell 2: not analysed")


def test_metadata_is_validated() -> None:
    config = PipelineConfig.from_json({"schedule": " 0  6 * * 1-5 ", "timezone": "Europe/Paris",
                                       "retries": 2})  # fmt: skip
    assert (config.schedule, config.timezone, config.retries) == ("0 6 * * 1-5", "Europe/Paris", 2)
    assert PipelineConfig.from_json(True) == PipelineConfig()
    assert check_cron("@daily") == "@daily"
    assert check_cron("*/15 0-23 1,15 jan-dec mon") == "*/15 0-23 1,15 jan-dec mon"
    for bad, message in [
        ({"schedule": "0 6 * *"}, "5 fields"),
        ({"schedule": "0 25 * * *"}, "hour '25' is out of 0-23"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"retries": -1}, "retries must be zero or more"),
        ({"retries": 1.5}, "retries must be an integer"),
        ({"timout": 3}, "unknown key(s) in ratatouille.pipeline: timout"),
    ]:
        with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
            PipelineConfig.from_json(bad)


def test_parameters_come_from_the_parameters_cell_and_unknown_names_are_refused(pipelines: Path) -> None:
    path = write_notebook(pipelines / "p.ipynb", [
        ('day = "2024-06-01"\nlimit: int = 10\nratio = 0.5\nfull = False\nregions = ["n"]\nnow = f()',
         ["parameters"]),
        "print(day)",
    ], pipeline={"parameters": {"limit": 20}})  # fmt: skip
    spec = load_spec(path)
    assert spec is not None
    assert spec.parameter_names == ["day", "limit", "ratio", "full", "regions", "now"]
    values = resolve(spec, parse_assignments(["limit=3", "ratio=2", "full=yes", 'regions=["s"]', "now=x"]),
                     text=True)  # fmt: skip
    assert values == {"limit": 3, "ratio": 2.0, "full": True, "regions": ["s"], "now": "x"}
    assert resolve(spec, {}) == {"limit": 20}
    with pytest.raises(InvalidInput, match=r"unknown parameter\(s\) of 'p': dya \(did you mean day\?\)"):
        resolve(spec, {"dya": "x"})
    with pytest.raises(InvalidInput, match="limit='many' is not a int"):
        resolve(spec, {"limit": "many"}, text=True)
    with pytest.raises(InvalidInput, match="written key=value"):
        parse_assignments(["limit"])


def test_discovery_reports_broken_notebooks_by_name_and_loads_the_others(
    settings: Settings, pipelines: Path
) -> None:
    write_notebook(pipelines / "good.ipynb", ['rat.transform("SELECT 1", "silver.x")'])
    nested = pipelines / "sub" / "also_good.ipynb"
    write_notebook(nested, ["rat.transform('SELECT * FROM {silver.x}', 'g.y')"])
    write_notebook(pipelines / "helper.ipynb", ["x = 1"], pipeline=None)
    write_notebook(pipelines / "bad_meta.ipynb", ["x = 1"], pipeline={"schedule": "every day"})
    write_notebook(pipelines / "same_table.ipynb", ['rat.transform("SELECT 2", "silver.x")'])
    (pipelines / "corrupt.ipynb").write_text("{not json")
    (pipelines / ".ipynb_checkpoints").mkdir()
    write_notebook(pipelines / ".ipynb_checkpoints" / "good-checkpoint.ipynb", ["x = 1"])
    found = discover(settings)
    assert sorted(found.pipelines) == ["also_good", "good"]
    assert sorted(found.errors) == ["bad_meta", "corrupt", "same_table"]
    assert "cannot read notebook corrupt.ipynb" in found.errors["corrupt"]
    assert "already written by pipeline 'good'" in found.errors["same_table"]
    assert found.unmarked == ["helper"]
    assert found.pipelines["also_good"].reads == ("silver.x",)
    with pytest.raises(NotFound, match="is not a pipeline"):
        found.get("helper")
    with pytest.raises(InvalidInput, match=r"bad_meta.*every day"):
        found.get("bad_meta")
    with pytest.raises(NotFound, match=r"pipelines: also_good, good"):
        found.get("nope")


def test_pipelines_dir_setting(tmp_path: Path) -> None:
    assert pipelines_dir(Settings.for_home(tmp_path)) == tmp_path.resolve() / "pipelines"
    assert pipelines_dir(Settings.for_home(tmp_path, pipelines_dir="flows")) == tmp_path.resolve() / "flows"
    env = {"RAT_HOME": str(tmp_path), "RAT_PIPELINES_DIR": str(tmp_path / "nb")}
    assert pipelines_dir(Settings.from_env(env, cwd=tmp_path)) == tmp_path / "nb"
    # `make lab`'s ratatouille.toml: the home in the repository, the pipelines next to it
    up = Settings.for_home(tmp_path / ".lakehouse", pipelines_dir="../notebooks/pipelines")
    assert pipelines_dir(up) == tmp_path.resolve() / "notebooks" / "pipelines"
    assert run_branch("daily_kpis", "abc-1", 2) == "pipelines/daily_kpis/abc-1-2"


def test_metadata_is_written_into_a_notebook_file(pipelines: Path) -> None:
    path = write_notebook(pipelines / "n.ipynb", ["x = 1"], pipeline=None)
    write_pipeline_metadata(path, PipelineConfig(schedule="0 6 * * *"))
    data = json.loads(path.read_text())
    assert data["metadata"]["ratatouille"]["pipeline"]["schedule"] == "0 6 * * *"
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    write_pipeline_metadata(path, None)
    assert "ratatouille" not in json.loads(path.read_text())["metadata"]


def test_list_command(settings: Settings, examples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (examples / "broken.ipynb").write_text("{")
    assert cli_main(["list"], settings) == 0
    out = capsys.readouterr().out
    assert "ingest_sales" in out and "0 6 * * * UTC" in out and "last: never run" in out
    assert "broken" in out and "CANNOT LOAD" in out
    assert cli_main(["list", "--json"], settings) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listing["pipelines"]] == ["ingest_sales", "quality_sales", "transform_sales"]
    assert listing["errors"][0]["name"] == "broken"


def test_examples_form_one_lineage(settings: Settings, examples: Path) -> None:
    found = discover(settings)
    assert not found.errors
    ingest, transform = found.get("ingest_sales"), found.get("transform_sales")
    assert list(ingest.writes) == ["bronze.sales"] and ingest.config.schedule == "0 6 * * *"
    assert set(transform.writes) == {"silver.sales", "gold.revenue_by_region"}
    assert transform.reads == ("bronze.sales",)
    quality = found.get("quality_sales")
    assert list(quality.writes) == ["silver.sales_daily"] and quality.reads == ("bronze.sales",)
    assert quality.description.startswith("# Daily sales, incremental and checked (pipeline)")
    assert [(t, n, s) for t, n, s in quality.checks] == [
        ("silver.sales_daily", "not_null(day, region)", "error"),
        ("silver.sales_daily", "unique(day, region)", "error"),
        ("silver.sales_daily", "row_count(>0)", "error"),
        ("silver.sales_daily", "positive_revenue", "warn"),
    ]


def test_show_lists_checks_and_description(
    settings: Settings, examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["show", "quality_sales"], settings) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["description"].startswith("# Daily sales")
    assert {"table": "silver.sales_daily", "name": "positive_revenue", "severity": "warn"} in shown["checks"]
