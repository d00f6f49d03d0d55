"""A run whose notebook reads ``{ns.t@new}`` records, per written table, the rows those sources delivered."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from ratatouille.cli import run as rat_cli
from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille_jupyter.pipelines import records
from tests.pipelines.notebooks import write_notebook

pytestmark = pytest.mark.timeout(240)

TRANSFORM = (
    "from ratatouille import rat\n"
    'rat.transform("SELECT id, qty FROM {bronze.events@new}", "silver.events", mode="append")'
)


def test_the_run_record_counts_the_new_source_rows(
    settings: Settings, pipelines: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lh = Lakehouse(settings)
    lh.write(pa.table({"id": [1, 2, 3], "qty": [1, 1, 1]}), "bronze.events")
    write_notebook(pipelines / "events.ipynb", [TRANSFORM])
    rat = Rat(lh)

    assert rat_cli(["pipelines", "run", "events", "--no-dagster"], rat) == 0
    assert "silver.events: 3 new source rows (bronze.events: 3)" in capsys.readouterr().out
    first = records.last_run(settings, "events")
    assert first is not None and first.new_rows == {"silver.events": {"bronze.events": 3}}

    lh.write(pa.table({"id": [4, 5], "qty": [2, 2]}), "bronze.events", mode="append")
    lh.write(pa.table({"id": [6], "qty": [3]}), "bronze.events", mode="append")
    assert rat_cli(["pipelines", "run", "events", "--no-dagster"], rat) == 0
    assert "silver.events: 3 new source rows (bronze.events: 3)" in capsys.readouterr().out
    second = records.last_run(settings, "events")
    assert second is not None and second.run_id != first.run_id
    loaded = records.load_run(settings, "events", second.run_id)
    assert loaded is not None and loaded.new_rows == {"silver.events": {"bronze.events": 3}}
    assert len(lh.query_arrow("SELECT * FROM {silver.events}")) == 6

    assert rat_cli(["pipelines", "run", "events", "--no-dagster"], rat) == 0
    third = records.last_run(settings, "events")
    assert third is not None and third.ok and third.new_rows in ({}, {"silver.events": {"bronze.events": 0}})
    lh.close()
