"""Several processes on one lakehouse: concurrent commits lose nothing, a killed writer breaks nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from ratatouille.session import Lakehouse
from tests.helpers import arrow, head, rows, settings_env

WRITER = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from ratatouille.session import Lakehouse
    lh = Lakehouse()
    worker, batches = int(sys.argv[1]), int(sys.argv[2])
    for i in range(batches):
        batch = pa.table({"worker": [worker] * 10, "batch": [i] * 10, "n": list(range(10))})
        lh.write(batch, "bronze.events")
        lh.write(pa.table({"k": [worker * 1000 + i], "v": [i]}), "silver.kv", mode="merge", merge_keys=["k"])
    print("ok")
    """
)


def test_two_processes_committing_at_once_lose_nothing(lakehouse: Lakehouse) -> None:
    lakehouse.write(arrow(worker=[0], batch=[0], n=[0]), "bronze.events")
    lakehouse.write(arrow(k=[0], v=[0]), "silver.kv")
    env = settings_env(lakehouse.settings)
    batches = 6
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(w), str(batches)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        assert out.strip() == "ok"
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.events}") == [{"n": 1 + 2 * batches * 10}]
    per_worker = rows(
        lakehouse, "SELECT worker, uniqExact(batch) AS b FROM {bronze.events} GROUP BY worker ORDER BY worker"
    )
    assert per_worker == [{"worker": 0, "b": 1}, {"worker": 1, "b": batches}, {"worker": 2, "b": batches}]
    assert rows(lakehouse, "SELECT count() AS n FROM {silver.kv}") == [{"n": 1 + 2 * batches}]


KILLED_WRITER = textwrap.dedent(
    """
    import pyarrow as pa
    from ratatouille.session import Lakehouse
    lh = Lakehouse()
    big = pa.table({"id": list(range(2_000_000)), "payload": ["x" * 40] * 2_000_000})
    print("writing", flush=True)
    while True:
        lh.write(big, "bronze.victim", mode="overwrite")
    """
)


def test_killed_writer_leaves_previous_snapshot_readable(lakehouse: Lakehouse) -> None:
    lakehouse.write(arrow(id=[1, 2, 3], payload=["a", "b", "c"]), "bronze.victim")
    before = head(lakehouse, "bronze.victim")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER], env=settings_env(lakehouse.settings),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(1.5)  # in the middle of writing data files
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    now = head(lakehouse, "bronze.victim")
    # Either the kill came before any commit (the old snapshot) or after whole commits: never half.
    count = rows(lakehouse, "SELECT count() AS n FROM {bronze.victim}")[0]["n"]
    if now == before:
        assert count == 3
    else:
        assert count == 2_000_000
    assert rows(lakehouse, f"SELECT count() AS n FROM {{bronze.victim@{before}}}") == [{"n": 3}]


def test_a_transform_of_its_own_target_never_loses_a_concurrent_append(lakehouse: Lakehouse) -> None:
    """An append landing between the query and the write is seen by a re-run of the query."""
    import pyarrow as pa

    from ratatouille.sql.expansion import ExpandedSQL

    lakehouse.write(pa.table({"id": pa.array([1, 2, 2], pa.int64())}), "silver.dedup")
    other = Lakehouse(lakehouse.settings)
    runs: list[int] = []
    original = lakehouse._run

    def run_then_append(expanded: ExpandedSQL, parameters: object, stats: object = None) -> pa.Table:
        result = original(expanded, parameters)  # type: ignore[arg-type]
        runs.append(1)
        if len(runs) == 1:  # another writer commits while this transform is between query and write
            other.write(pa.table({"id": pa.array([3], pa.int64())}), "silver.dedup")
        return result

    lakehouse._run = run_then_append  # type: ignore[method-assign]
    result = lakehouse.transform("SELECT DISTINCT id FROM {silver.dedup}", "silver.dedup")
    assert len(runs) == 2 and result.rows == 3
    got = lakehouse.query_arrow("SELECT id FROM {silver.dedup} ORDER BY id").column("id").to_pylist()
    assert got == [1, 2, 3]
