"""Expiry of kept run branches never removes the branch of a run that is still going."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pytest

from ratatouille.catalog import load_table
from ratatouille.config import Settings
from ratatouille.session import Lakehouse
from ratatouille_jupyter.pipelines import records
from ratatouille_jupyter.pipelines.records import FAILED, RunRecord
from ratatouille_jupyter.pipelines.runner import expire_branches, run_pipeline
from ratatouille_jupyter.pipelines.spec import discover
from tests.pipelines.notebooks import write_notebook

pytestmark = pytest.mark.timeout(240)


def _run_on_branch(lh: Lakehouse, settings: Settings, run_id: str, **fields: object) -> RunRecord:
    """A run record of pipeline ``nightly`` and a branch it wrote on ``silver.nums``."""
    record = RunRecord("nightly", run_id, **fields)  # type: ignore[arg-type]
    record.save(settings)
    lh.use_branch(f"pipelines/nightly/{run_id}")
    lh.write(pa.table({"x": [1]}), "silver.nums")
    lh.use_branch(None)
    return record


def _reaped() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _stale_heartbeat(settings: Settings, run_id: str) -> None:
    beat = records.heartbeat_path(settings, "nightly", run_id)
    beat.parent.mkdir(parents=True, exist_ok=True)
    beat.touch()
    old = time.time() - 2 * records.STALE_SECONDS
    os.utime(beat, (old, old))


def _branches(lh: Lakehouse) -> set[str]:
    return {b.rsplit("/", 1)[1] for b in load_table(lh.catalog, "silver.nums").metadata.refs if b != "main"}


def test_expiry_keeps_the_branches_of_runs_still_going(settings: Settings) -> None:
    lh = Lakehouse(settings)
    lh.write(pa.table({"x": [0]}), "silver.nums")
    here = records.this_host()
    with records.Heartbeat(settings, "nightly", "live-here"):  # a run going on in this process
        _run_on_branch(lh, settings, "live-here", host=here, pid=os.getpid())
        _run_on_branch(lh, settings, "live-elsewhere", host="other-host", pid=1)
        records.heartbeat_path(settings, "nightly", "live-elsewhere").touch()  # beats on another host
        _run_on_branch(lh, settings, "live-2", host="other-host", pid=1)  # its second attempt's branch
        lh.use_branch("pipelines/nightly/live-2-2")
        lh.write(pa.table({"x": [2]}), "silver.nums")
        lh.use_branch(None)
        records.heartbeat_path(settings, "nightly", "live-2").touch()
        _run_on_branch(lh, settings, "failed", status=FAILED, ended=records.now(), host=here, pid=os.getpid())
        _run_on_branch(lh, settings, "crashed", host=here, pid=_reaped())  # its process died
        _stale_heartbeat(settings, "crashed")
        _run_on_branch(lh, settings, "lost", host="other-host", pid=1)
        _stale_heartbeat(settings, "lost")  # its host stopped beating long ago
        _run_on_branch(lh, settings, "legacy")  # a record without host, pid nor heartbeat
        _stale_heartbeat(settings, "legacy")
        lh.use_branch("pipelines/nightly/unrecorded")
        lh.write(pa.table({"x": [3]}), "silver.nums")
        lh.use_branch(None)
        time.sleep(0.05)

        removed = expire_branches(lh, "nightly", keep_days=0)

    assert _branches(lh) == {"live-here", "live-elsewhere", "live-2", "live-2-2"}
    expired = sorted(r.rsplit("/", 1)[1] for r in removed)
    assert expired == ["crashed", "failed", "legacy", "lost", "unrecorded"]
    assert records.in_progress(settings, records.load_run(settings, "nightly", "live-here"))
    lh.close()


def test_a_finishing_run_leaves_a_concurrent_runs_branch_alone(settings: Settings, pipelines: Path) -> None:
    write_notebook(pipelines / "nightly.ipynb", [
        "from ratatouille import rat\nimport pandas as pd",
        'rat.ice_ingest_df(pd.DataFrame({"x": [7]}), "silver.nums")',
    ], pipeline={"keep_failed_days": 0})  # fmt: skip
    lh = Lakehouse(settings)
    lh.write(pa.table({"x": [0]}), "silver.nums")
    with records.Heartbeat(settings, "nightly", "concurrent"):
        _run_on_branch(lh, settings, "concurrent", host=records.this_host(), pid=os.getpid())
        _run_on_branch(lh, settings, "old-failure", status=FAILED, ended=records.now())
        time.sleep(0.05)
        record = run_pipeline(discover(settings).get("nightly"), settings)
    assert record.ok, record.error
    assert _branches(lh) == {"concurrent"}  # still being written: kept; the failed one expired
    lh.use_branch("pipelines/nightly/concurrent")
    assert len(lh.query_arrow("SELECT * FROM {silver.nums}")) == 2  # main's row and the run's own
    lh.close()
