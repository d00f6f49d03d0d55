"""Query parameter values stay out of snapshot summaries unless recording them is asked for."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.catalog import load_table
from ratatouille.config import Settings
from ratatouille.errors import ConfigError, Conflict
from ratatouille.session import Lakehouse
from tests.helpers import head

SECRET = "alice@example.com"
QUERY = "SELECT id, qty * {factor:Int64} AS total, {who:String} AS who FROM {bronze.sales}"


def _rat(settings: Settings) -> Rat:
    rat = Rat(Lakehouse(settings))
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.sales")
    return rat


def _summary(lh: Lakehouse, table: str, branch: str = "main") -> dict[str, str]:
    t = load_table(lh.catalog, table)
    snap = t.metadata.snapshot_by_name(branch)
    assert snap is not None and snap.summary is not None
    return dict(snap.summary.additional_properties)


def _metadata_text(lh: Lakehouse, table: str) -> str:
    return load_table(lh.catalog, table).metadata.model_dump_json()


def test_by_default_only_names_and_types_are_kept(settings: Settings) -> None:
    rat = _rat(settings)
    rat.transform(QUERY, "silver.sales", merge_keys=["id"], params={"factor": 10, "who": SECRET})
    summary = _summary(rat.session, "silver.sales")
    assert json.loads(summary["ratatouille.param-types"]) == {"factor": "int", "who": "str"}
    assert "ratatouille.params" not in summary
    assert SECRET not in _metadata_text(rat.session, "silver.sales")  # nowhere in the table's metadata
    assert rat.df("silver.sales").who.tolist() == [SECRET] * 3  # the query itself had the value
    plain = rat.transform("SELECT 1 AS id", "silver.plain")
    assert plain["rows"] == 1 and "ratatouille.param-types" not in _summary(rat.session, "silver.plain")
    rat.session.close()


def test_recording_values_is_opt_in(settings: Settings) -> None:
    rat = _rat(settings.with_(record_parameters=True))
    rat.transform(QUERY, "silver.sales", merge_keys=["id"], params={"factor": 10, "who": SECRET})
    summary = _summary(rat.session, "silver.sales")
    assert json.loads(summary["ratatouille.params"]) == {"factor": 10, "who": SECRET}
    assert json.loads(summary["ratatouille.param-types"]) == {"factor": "int", "who": "str"}
    rat.session.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("0", False), ("false", False), ("", False)],
)
def test_the_setting_reads_the_environment_and_the_file(tmp_path: Path, value: str, expected: bool) -> None:
    env = {"RAT_HOME": str(tmp_path / "lh"), "RAT_RECORD_PARAMETERS": value}
    assert Settings.from_env(env, cwd=tmp_path).record_parameters is expected
    (tmp_path / "ratatouille.toml").write_text("record_parameters = true\n")
    assert Settings.from_env({}, cwd=tmp_path).record_parameters is True


def test_an_unreadable_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAT_RECORD_PARAMETERS"):
        Settings.from_env({"RAT_HOME": str(tmp_path), "RAT_RECORD_PARAMETERS": "maybe"}, cwd=tmp_path)


def test_rebase_refuses_a_transform_whose_values_were_not_recorded(settings: Settings) -> None:
    rat = _rat(settings)
    lh = rat.session
    rat.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.dev_start("tuning", tables=["bronze.sales"])
    rat.transform(QUERY, "silver.sales", merge_keys=["id"], params={"factor": 10, "who": SECRET})
    other = Rat(Lakehouse(settings))
    other.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")  # main moves
    refs = {(t, b): head(lh, t, b) for t in ("bronze.sales", "silver.sales") for b in ("main", "tuning")}
    with pytest.raises(Conflict) as info:
        rat.dev_merge(rebase=True)
    message = str(info.value)
    sid = head(lh, "silver.sales", "tuning")
    assert f"snapshot {sid} of silver.sales" in message and "factor, who" in message
    assert "RAT_RECORD_PARAMETERS=1" in message
    assert {k: head(lh, *k) for k in refs} == refs  # nothing moved, the branch is kept as it was
    other.session.close()
    lh.close()


def test_rebase_replays_recorded_values(settings: Settings) -> None:
    recording = settings.with_(record_parameters=True)
    rat = _rat(recording)
    rat.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    rat.dev_start("tuning", tables=["bronze.sales"])
    rat.transform(QUERY, "silver.sales", merge_keys=["id"], params={"factor": 10, "who": SECRET})
    other = Rat(Lakehouse(recording))
    other.ice_ingest_df(pd.DataFrame({"id": [4], "qty": [4]}), "bronze.sales")
    other.transform("SELECT id, qty AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    assert rat.dev_merge(rebase=True)["rebased"] == ["silver.sales"]
    main = Rat(Lakehouse(recording))
    assert sorted(main.df("silver.sales").total) == [10, 20, 30, 40]  # replayed with factor=10
    for r in (rat, other, main):
        r.session.close()
