"""Policy-driven maintenance: the SDK call, ``rat maintain``, and the nightly Dagster job and schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratatouille.cli import main, run
from ratatouille.config import Settings
from ratatouille.errors import ConfigError
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse

from .conftest import data_files, full, small_files


def test_maintain_applies_each_tables_policy(rat: Rat) -> None:
    small_files(rat, "bronze.many", 5, n=10)
    small_files(rat, "bronze.few", 2, n=10)
    rat.ice_policy("bronze.few", enabled=False)
    before = full(rat, "bronze.many")
    report = rat.ice_maintain()
    assert set(report) == {"bronze.many", "bronze.few"}
    assert report["bronze.many"]["compaction"]["rewritten"] == 5  # 5 small files: the default minimum
    assert report["bronze.many"]["expiry"]["expired"] == 0  # everything is younger than 7 days
    assert report["bronze.many"]["orphans"]["deleted"] == 0
    assert "disabled" in report["bronze.few"]["skipped"]
    assert len(data_files(rat, "bronze.many")) == 1 and len(data_files(rat, "bronze.few")) == 2
    assert full(rat, "bronze.many").equals(before)
    rat.ice_policy("bronze.many", max_snapshot_age="0s", retain_last=1, max_manifests=1)
    small_files(rat, "bronze.many", 2, n=1)
    again = rat.ice_maintain("bronze.many")["bronze.many"]
    assert "compaction" not in again  # two small files: below the minimum
    assert again["manifests"]["manifests_after"] == 1
    assert again["expiry"]["snapshots_left"] == 1


def test_rat_maintain_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path)))
    small_files(rat, "bronze.t", 5, n=10)
    assert run(["maintain"], rat) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["table", "compacted", "manifests"]
    assert "bronze.t" in out and "(1 row)" in out
    assert run(["maintain", "bronze.t", "--json"], rat) == 0
    assert json.loads(capsys.readouterr().out)["bronze.t"]["policy"]["retain_last"] == 20
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("RAT_HOME", str(tmp_path))
    try:
        assert main(["maintain", "bronze.nope"]) == 2
    finally:
        monkeypatch.undo()
    assert capsys.readouterr().err.strip().startswith("rat: NotFound: table bronze.nope does not exist")


def test_the_nightly_dagster_job_and_schedule(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    dg = pytest.importorskip("dagster")
    from ratatouille_jupyter.pipelines.dagster_defs import build_definitions, maintenance_schedule

    for name in ("DAGSTER_HOME", "RAT_BRANCH", "RAT_MAINTENANCE_SCHEDULE", "RAT_MAINTENANCE_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    rat = Rat(Lakehouse(local_settings))
    small_files(rat, "bronze.t", 5, n=10)
    defs = build_definitions(local_settings)
    (schedule,) = [s for s in defs.schedules or [] if s.name == "rat_maintenance_schedule"]
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 3 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    job = defs.resolve_job_def("rat_maintenance")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    report = result.output_for_node("rat_maintenance_tables")
    assert report["bronze.t"]["compaction"]["rewritten"] == 5
    assert len(data_files(rat, "bronze.t")) == 1
    # The schedule comes from the environment; "off" removes it; a bad one is refused.
    assert maintenance_schedule(job, {"RAT_MAINTENANCE_SCHEDULE": "30 1 * * 0"}).cron_schedule == "30 1 * * 0"  # type: ignore[union-attr]
    assert maintenance_schedule(job, {"RAT_MAINTENANCE_SCHEDULE": "off"}) is None
    with pytest.raises(ConfigError, match="5 fields"):
        maintenance_schedule(job, {"RAT_MAINTENANCE_SCHEDULE": "nightly"})


def test_writes_keep_mains_history_under_the_cap(rat: Rat, tmp_path: Path) -> None:
    from .conftest import batch

    rat.ice_ingest_df(batch(0), "bronze.capped")
    rat.ice_policy("bronze.capped", max_snapshots=5)
    rat.dev_start("side")
    rat.ice_ingest_df(batch(10_000), "bronze.capped")  # a branch head: never expired
    rat.dev(None)
    for i in range(1, 12):
        rat.ice_ingest_df(batch(i * 100), "bronze.capped")
    table = rat.session.catalog.load_table("bronze.capped")
    assert len(table.metadata.snapshots) <= 5 + 1 + 2  # the cap, the branch head, the slack
    assert rat.query("SELECT count() AS n FROM {bronze.capped}")["n"][0] == 1200
    assert rat.query("SELECT count() AS n FROM {bronze.capped@side}")["n"][0] == 200
    # Files ingested before the expiry stay ingested (the registry keeps its lineage).
    drop = tmp_path / "drop"
    drop.mkdir()
    batch(50_000).to_csv(drop / "a.csv", index=False)
    rat.ice_ingest_batch(str(drop), "bronze.capped_files", skip_existing=True)
    rat.ice_policy("bronze.capped_files", max_snapshots=1)
    for i in range(4):
        rat.ice_ingest_df(
            batch(60_000 + i * 100).assign(_source_file="x", _ingested_at=None), "bronze.capped_files"
        )
    _, stats = rat.ice_ingest_batch(str(drop), "bronze.capped_files", skip_existing=True)
    assert stats["rows"] == 0 and stats["already_ingested"] == 1
    # 0 turns the cap off.
    rat.ice_policy("bronze.capped", max_snapshots=0)
    before = len(rat.session.catalog.load_table("bronze.capped").metadata.snapshots)
    for i in range(3):
        rat.ice_ingest_df(batch(90_000 + i * 100), "bronze.capped")
    assert len(rat.session.catalog.load_table("bronze.capped").metadata.snapshots) == before + 3
