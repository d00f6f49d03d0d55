"""Run every benchmark (``bench/bench_*.py``), each in its own process, and print their ratio lines.

``python bench/run.py [--quick] [NAME ...]``: ``--quick`` passes smaller sizes where a benchmark takes
them; names select benchmarks (``core``, ``ingest``, ``tables``, ``checks``, ``completion``...).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_ARGS = {
    "checks": ["--quick"],
    "completion": ["--tables", "200", "--repeat", "20", "--no-save"],
    "core": ["--rows", "1000000", "--changed", "100000"],
    "deletes": ["--quick"],
    "incremental": ["--quick"],
    "pipelines": ["--repeat", "3"],
    "tables": ["--quick"],
    "reliability": ["--quick"],
    "tpch": ["--quick"],
    "charts": ["--quick"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    failed = 0
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        extra = QUICK_ARGS.get(name, []) if args.quick else []
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra])
        print(f"   ({time.perf_counter() - start:.1f} s, exit {rc})", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
