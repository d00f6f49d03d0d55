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


def test_the_example_runs_again_after_the_ingest_rewrote_its_source(
    settings: Settings, examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lh = Lakehouse(settings)
    rat = Rat(lh)
    for name in ("ingest_sales", "quality_sales", "ingest_sales", "quality_sales"):
        assert rat_cli(["pipelines", "run", name, "--no-dagster"], rat) == 0, name
    out = capsys.readouterr().out
    # The second ingest overwrote bronze.sales: on_rewrite=full reads it in full again.
    assert out.count("silver.sales_daily: 40 new source rows (bronze.sales: 40)") == 2
    assert "4 checks: 0 failed, 0 warnings, 4 passed" in out
    last = records.last_run(settings, "quality_sales")
    assert last is not None and last.new_rows == {"silver.sales_daily": {"bronze.sales": 40}}
    assert len(lh.query_arrow("SELECT * FROM {silver.sales_daily}")) > 0
    lh.close()
