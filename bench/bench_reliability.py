"""Concurrent writers on mixed branches: 8 processes x 25 writes over 4 branches (main and 3 dev branches).

Each process alternates an append and a merge on its branch of the same two tables; afterwards every
branch is counted: rows lost, duplicated, or leaked to another branch, and processes that failed. All must
be 0. The figures go to ``bench/results/reliability.json`` (docs/reliability.md quotes them), beside the
fault suite's own (``test-artifacts/reliability.json``, written by ``make test``) when it has run.

``python bench/bench_reliability.py [--quick] [--processes 8] [--writes 25] [--branches 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ratatouille.config import Settings  # noqa: E402
from tests.faults.writers import run_writers  # noqa: E402
from tests.helpers import settings_env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="4 processes x 5 writes over 2 branches")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--writes", type=int, default=25)
    parser.add_argument("--branches", type=int, default=4)
    args = parser.parse_args()
    if args.quick:
        args.processes, args.writes, args.branches = 4, 5, 2
    with tempfile.TemporaryDirectory() as home:
        settings = Settings.for_home(Path(home) / "lakehouse")
        env = {
            **settings_env(settings),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        figures = run_writers(settings, args.processes, args.writes, args.branches, env)
    figures["setup"] = "local (SQLite catalog, local warehouse)"
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    print(
        f"{args.processes} processes x {args.writes} writes over {args.branches} branches: "
        f"{figures['errors']} errors, {figures['rows_lost']} rows lost, "
        f"{figures['rows_duplicated']} duplicated, "
        f"{figures['rows_leaked_across_branches']} leaked ({figures['seconds']} s)",
        flush=True,
    )
    out = ROOT / "bench" / "results" / ("reliability-quick.json" if args.quick else "reliability.json")
    out.write_text(json.dumps(figures, indent=2) + "\n")
    bad = figures["errors"] + figures["rows_lost"] + figures["rows_duplicated"]
    return 1 if bad + figures["rows_leaked_across_branches"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
