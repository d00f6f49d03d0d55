"""Incremental transforms (``{ns.t@new}``) killed at each step of their write, then run again: every source
row lands in the target exactly once, and the target's position ends at the source's head.

The transform runs in a child process (``python -m tests.faults.test_incremental BOUNDARY WHEN``) armed
with the suite's kill (:func:`tests.faults.injection.armed`: SIGKILL at a step boundary of the write). A
child process rather than the driver's fork: the parent here has already started chDB, whose threads a
fork would not copy. The parent then checks the target, appends more rows, runs the transform again and
checks that nothing was lost or read twice.

Every kill point runs on both setups (the ``settings`` fixture: ``local`` and ``pg_s3``, a fresh Postgres
database and S3 bucket per case). On ``pg_s3`` the cases take about as long as on ``local`` (the child's
start-up and imports dominate: 10 to 18 s per case on the 2-core machine under load, 4 cases per
setup), so every kill point runs on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ratatouille.catalog import load_table
from ratatouille.config import Settings
from ratatouille.errors import NotFound
from ratatouille.incremental import positions_of
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from tests.helpers import settings_env

from .injection import Fault, armed

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "src.events"
TARGET = "silver.doubled"
SQL = f"SELECT id, amount * 2 AS doubled FROM {{{SOURCE}@new}}"
BATCH = 1_000

#: (boundary, the real call runs first, the target existed before the killed run).
CASES = [
    ("files_written", False, False),  # the first run: the target is being created
    ("files_written", False, True),  # data files written, nothing committed
    ("commit_started", False, True),  # the new metadata file written, the pointer not moved
    ("commit_returned", True, True),  # committed: the rerun must not read those rows again
]


def batch(first: int) -> pa.Table:
    ids = np.arange(first, first + BATCH, dtype=np.int64)
    return pa.table({"id": ids, "amount": ids.astype(np.float64) / 10})


def child(boundary: str, after: bool, fired: str) -> None:
    """Run the transform armed with a kill at ``boundary`` (the process dies there)."""
    rat = Rat(Lakehouse(Settings.from_env()))
    with armed(Fault(boundary, "kill", after=after), marker=Path(fired).touch):
        rat.transform(SQL, TARGET, mode="append")
    raise SystemExit(f"the transform survived its kill at {boundary}")


def target_ids(lh: Lakehouse) -> Counter[int]:
    """How many times each id is in the target (empty when the target does not exist)."""
    try:
        table = load_table(lh.catalog, TARGET)
    except NotFound:
        return Counter()
    return Counter(table.scan(selected_fields=("id",)).to_arrow().column("id").to_pylist())


@pytest.mark.parametrize(
    ("boundary", "after", "existed"),
    [
        pytest.param(b, a, e, id=f"kill-{'after' if a else 'before'}-{b}-{'rerun' if e else 'first'}")
        for b, a, e in CASES
    ],
)
def test_incremental_transform_killed_then_rerun_reads_each_row_once(
    settings: Settings, tmp_path: Path, boundary: str, after: bool, existed: bool
) -> None:
    lh = Lakehouse(settings)
    rat = Rat(lh)
    try:
        written = 0
        for _ in range(2):
            lh.write(batch(written), SOURCE, mode="append")
            written += BATCH
        if existed:
            rat.transform(SQL, TARGET, mode="append")
            lh.write(batch(written), SOURCE, mode="append")
            written += BATCH
        before = target_ids(lh)

        fired = tmp_path / "fired"
        env = {
            **settings_env(settings),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "tests.faults.test_incremental", boundary, str(int(after)), str(fired)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert fired.exists(), f"the kill point was never reached:\n{proc.stderr[-3000:]}"
        assert proc.returncode == -9, f"the child was not killed ({proc.returncode}):\n{proc.stderr[-3000:]}"

        # After the kill the target holds either the old rows or the old rows and the new ones, no mix.
        now = target_ids(lh)
        assert now in (before, Counter(range(written))), f"partial target after the kill: {len(now)} rows"
        if after:
            assert now == Counter(range(written)), "a commit that returned did not keep its rows"

        # More rows arrive, the transform runs again: each source row once, the position at the head.
        lh.write(batch(written), SOURCE, mode="append")
        written += BATCH
        rat.transform(SQL, TARGET, mode="append")
        ids = target_ids(lh)
        duplicated = sorted(i for i, n in ids.items() if n > 1)
        missing = sorted(set(range(written)) - set(ids))
        assert not duplicated, f"rows read twice: {duplicated[:10]}... ({len(duplicated)})"
        assert not missing, f"rows never read: {missing[:10]}... ({len(missing)})"
        assert set(ids) == set(range(written))
        source_head = load_table(lh.catalog, SOURCE).metadata.current_snapshot_id
        target_snap = load_table(lh.catalog, TARGET).current_snapshot()
        assert positions_of(target_snap) == {SOURCE: source_head}
    finally:
        lh.close()


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2] == "1", sys.argv[3])
