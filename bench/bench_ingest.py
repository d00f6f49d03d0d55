"""Ingestion benchmark: CSV speed against a raw pyarrow baseline, Excel rows/s, peak memory.

Run: ``python bench/bench_ingest.py`` (``--quick`` for a smaller run). Prints, measured in the same run:

* CSV of ``--rows`` rows into bronze, against the baseline ``pyarrow.csv.read_csv`` + ``parquet.write_table``
  of the same file (the issue's target: at most 1.5x);
* Excel: rows/s of ``rat.ice_ingest`` against openpyxl merely reading the same workbook;
* peak memory (max RSS of a child process) ingesting a CSV several times larger than the documented bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

ROOT = Path(__file__).resolve().parents[1]
# docs/ingestion.md: peak RSS <= BASE_MB + 2 x memory_mb
BASE_MB = 400


def bound_mb(memory_mb: int) -> int:
    return BASE_MB + 2 * memory_mb


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    cities = np.array(["Paris", "Lyon", "Berlin", "Madrid", "Rome", "Oslo", "Lisbon", "Vienna"])
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("order_date", pa.date32()),
            ("created_at", pa.timestamp("s")),
            ("customer", pa.string()),
            ("city", pa.string()),
            ("amount", pa.float64()),
            ("qty", pa.int64()),
        ]
    )
    step = 1_000_000
    with pv.CSVWriter(str(path), schema) as writer:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            ids = np.arange(start, start + n)
            writer.write(
                pa.table(
                    {
                        "id": ids,
                        "order_date": pa.array(rng.integers(0, 20000, n).astype("int32"), pa.date32()),
                        "created_at": pa.array(
                            rng.integers(1_600_000_000, 1_700_000_000, n), pa.timestamp("s")
                        ),
                        "customer": pa.array(np.char.add("cust_", (ids % 100_000).astype(str))),
                        "city": cities[ids % 8],
                        "amount": np.round(rng.random(n) * 1000, 2),
                        "qty": rng.integers(1, 20, n),
                    },
                    schema=schema,
                )
            )


def make_xlsx(path: Path, rows: int) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(["id", "day", "customer", "amount", "qty", "note"])
    base = dt.date(2024, 1, 1)
    for i in range(rows):
        ws.append([i, base + dt.timedelta(days=i % 365), f"cust_{i % 1000}", i * 0.25, i % 17, "ok"])
    wb.save(path)


def child(code: str, env: dict[str, str] | None = None) -> tuple[dict[str, float], float]:
    """Run Python code in a child process; return what it printed (JSON) and its max RSS in MB."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


INGEST = """
import json, pathlib, time
from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
rat = Rat(Lakehouse(Settings.for_home({home!r})))
warm = pathlib.Path({home!r}, "warm.csv")
warm.parent.mkdir(parents=True, exist_ok=True)
warm.write_text("id,day\\n1,2024-01-01\\n")
rat.ice_ingest(str(warm), "bronze.warmup")  # imports and catalog, not measured (no SQL engine is loaded)
t = time.perf_counter()
_, rows = rat.ice_ingest({path!r}, "bronze.{table}", memory_mb={memory_mb})
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": rows}}))
"""

BASELINE = """
import json, time, pyarrow.csv as pv, pyarrow.parquet as pq
t = time.perf_counter()
pq.write_table(pv.read_csv({path!r}), {out!r})
print(json.dumps({{"seconds": time.perf_counter() - t}}))
"""

OPENPYXL = """
import json, time, openpyxl
t = time.perf_counter()
wb = openpyxl.load_workbook({path!r}, read_only=True, data_only=True)
n = sum(1 for _ in wb["Data"].iter_rows(values_only=True)) - 1
print(json.dumps({{"seconds": time.perf_counter() - t, "rows": n}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of the CSV speed test")
    parser.add_argument("--excel-rows", type=int, default=100_000)
    parser.add_argument("--memory-mb", type=int, default=64, help="the ingestion's memory bound")
    parser.add_argument("--big-factor", type=float, default=4.0, help="big CSV size / peak RSS bound")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each timing (the best is kept)")
    parser.add_argument("--quick", action="store_true", help="500k rows, 20k Excel rows, factor 1.5")
    parser.add_argument("--workdir", type=Path, default=None, help="keep generated files here")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.excel_rows, args.big_factor, args.repeat = 500_000, 20_000, 1.5, 1
    work = args.workdir or Path(tempfile.mkdtemp(prefix="rat-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    csv = work / f"speed_{args.rows}.csv"
    if not csv.exists():
        make_csv(csv, args.rows)
    size_mb = csv.stat().st_size / 2**20
    base, ours = [], []
    for i in range(args.repeat):
        base.append(child(BASELINE.format(path=str(csv), out=str(work / "baseline.parquet")))[0]["seconds"])
        result, _ = child(
            INGEST.format(home=str(work / f"home_speed_{i}"), path=str(csv), table="speed", memory_mb=256)
        )
        ours.append(result["seconds"])
    print(
        f"CSV {args.rows:,} rows ({size_mb:.0f} MB): baseline read_csv+parquet {min(base):.2f} s, "
        f"rat.ice_ingest {min(ours):.2f} s, ratio {min(ours) / min(base):.2f}x (target <= 1.5x)"
    )

    xlsx = work / f"excel_{args.excel_rows}.xlsx"
    if not xlsx.exists():
        make_xlsx(xlsx, args.excel_rows)
    opx, _ = child(OPENPYXL.format(path=str(xlsx)))
    ing, _ = child(INGEST.format(home=str(work / "home_excel"), path=str(xlsx), table="excel", memory_mb=256))
    opx_rate, ing_rate = opx["rows"] / opx["seconds"], ing["rows"] / ing["seconds"]
    try:
        import python_calamine  # noqa: F401

        engine = "python-calamine"
    except ImportError:
        engine = "openpyxl"
    print(
        f"Excel {args.excel_rows:,} rows: openpyxl read {opx_rate:,.0f} rows/s, rat.ice_ingest ({engine}) "
        f"{ing_rate:,.0f} rows/s, ratio {ing_rate / opx_rate:.2f}x"
    )

    bound = bound_mb(args.memory_mb)
    big_rows = int(args.big_factor * bound * 2**20 / (csv.stat().st_size / args.rows))
    big = work / f"big_{big_rows}.csv"
    if not big.exists():
        make_csv(big, big_rows, seed=1)
    big_mb = big.stat().st_size / 2**20
    result, rss = child(
        INGEST.format(home=str(work / "home_big"), path=str(big), table="big", memory_mb=args.memory_mb)
    )
    verdict = "under" if rss <= bound else "OVER"
    print(
        f"Peak memory: {big_mb:,.0f} MB CSV ({big_mb / bound:.1f}x the bound), memory_mb={args.memory_mb}: "
        f"max RSS {rss:.0f} MB, {verdict} the documented bound {bound} MB; {result['rows']:,} rows in "
        f"{result['seconds']:.1f} s"
    )
    if not args.workdir:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
