"""Core benchmarks: merge vs pyiceberg upsert, GROUP BY vs chDB reading Iceberg directly, query overhead.

Run: ``python bench/bench_core.py [--rows 5000000] [--changed 500000]``. Every figure is a ratio against a
baseline measured in the same run, on the same data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_time, report, timed

from ratatouille.config import Settings
from ratatouille.session import Lakehouse


def make_table(n: int, start: int = 0, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "id": np.arange(start, start + n, dtype=np.int64),
            "region": pa.array(rng.choice(["EU", "US", "APAC", "LATAM"], n)),
            "qty": rng.integers(0, 100, n, dtype=np.int64),
            "price": rng.random(n) * 100,
        }
    )


def changed_batch(rows: int, changed: int) -> pa.Table:
    """``changed`` existing keys, picked at random over the whole table, with new values."""
    rng = np.random.default_rng(2)
    keys = np.sort(rng.choice(rows, size=changed, replace=False)).astype(np.int64)
    fresh = make_table(changed, seed=3)
    return fresh.set_column(0, "id", pa.array(keys))


def bench_merge(home: Path, rows: int, changed: int) -> None:
    lh = Lakehouse(Settings.for_home(home / "merge"))
    base = make_table(rows)
    lh.write(base, "bench.ours")
    lh.write(base, "bench.theirs")
    batch = changed_batch(rows, changed)
    ours, result = timed(lambda: lh.write(batch, "bench.ours", mode="merge", merge_keys=["id"]))
    table = lh.catalog.load_table("bench.theirs")
    theirs, upsert = timed(lambda: table.upsert(batch.cast(table.schema().as_arrow()), join_cols=["id"]))
    assert (result.updated, result.inserted) == (upsert.rows_updated, upsert.rows_inserted), (result, upsert)
    report(f"merge {changed:,} keys into {rows:,} rows", ours, theirs, "pyiceberg upsert",
           "ratio <= 0.05 and ours < 5 s")  # fmt: skip


def bench_group_by(home: Path, rows: int) -> None:
    # The read path over the files (RAT_CACHE_MB=0); the snapshot cache's own line follows.
    lh = Lakehouse(Settings.for_home(home / "scan", cache_mb=0))
    lh.write(make_table(rows), "bench.scan")
    sql = "SELECT region, sum(qty * price) AS revenue, count() AS n FROM {} GROUP BY region ORDER BY region"
    ours = median_time(lambda: lh.query_arrow(sql.format("{bench.scan}")), repeat=5, warmup=1)
    cached_lh = Lakehouse(Settings.for_home(home / "scan", cache_mb=2048))
    cached = median_time(lambda: cached_lh.query_arrow(sql.format("{bench.scan}")), repeat=5, warmup=1)
    location = lh.catalog.load_table("bench.scan").location().removeprefix("file://")
    direct = sql.format(f"icebergLocal('{location}')")
    cwd = os.getcwd()
    os.chdir("/")  # chDB's icebergLocal only reads paths under the working directory
    try:
        base = median_time(lambda: lh.engine.query_arrow(direct), repeat=5, warmup=1)
    finally:
        os.chdir(cwd)
    report(f"GROUP BY over {rows:,} rows", ours, base, "chDB icebergLocal", "ratio <= 1.3")
    report(f"GROUP BY over {rows:,} rows, snapshot cache", cached, base, "chDB icebergLocal", "reported")


def bench_overhead(home: Path) -> None:
    lh = Lakehouse(Settings.for_home(home / "overhead"))
    ours = median_time(lambda: lh.query_arrow("SELECT 1"), repeat=200, warmup=10)
    client = lh.engine._client  # the raw clickhouse-connect client: the floor we add to
    base = median_time(lambda: client.query_arrow("SELECT 1"), repeat=200, warmup=10)
    report("rat.query('SELECT 1') warm median", ours, base, "raw client", "ours < 20 ms", unit="ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--changed", type=int, default=500_000)
    parser.add_argument("--skip-upsert", action="store_true", help="skip the slow pyiceberg baseline")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rat-bench-") as tmp:
        home = Path(tmp)
        bench_overhead(home)
        bench_group_by(home, args.rows)
        if not args.skip_upsert:
            bench_merge(home, args.rows, args.changed)


if __name__ == "__main__":
    main()
