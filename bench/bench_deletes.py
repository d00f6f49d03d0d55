"""Row-level deletes: a table with 1% of its rows deleted reads within 1.5x of itself compacted.

One table of N rows (full: 10M in 10 files; quick: 1M in 4 files) gets delete files for 1% of its rows,
chosen at random: position deletes (one file naming rows of every data file) in one table, equality
deletes on ``id`` in another. Each is registered a second time and compacted with ``rat.ice_compact``
(the same rows, plain files, no delete file). Compaction bin-packs the files (10 become 1), so a third
table compares like with like: the snapshot before the deletes, registered apart (the same data files,
1% more rows, no delete file). The queries below run on the three, interleaved, with the snapshot cache
off (every read decodes the files); medians of ``--repeat``. Target: ratio to the compacted table <= 1.5.

Figures go to ``bench/results/deletes.json`` (``--quick``: ``bench/results/deletes-quick.json``).

``python bench/bench_deletes.py [--quick] [--rows 10000000] [--files 10] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_tables import _short, make_rows, peak_rss_mb
from common import report

from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille.testing import commit_equality_deletes, commit_position_deletes

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.5
DELETED = 0.01
QUERIES = {
    "aggregate": "SELECT category, count() AS n, round(sum(amount), 2) AS s FROM {t} GROUP BY category",
    "filtered": "SELECT count() AS n, round(sum(amount), 2) AS s FROM {t} WHERE user_id < 10000",
}


def build(rat: Rat, name: str, rows: int, files: int) -> None:
    per = -(-rows // files)
    for start in range(0, rows, per):
        rat.session.write(make_rows(start, min(per, rows - start)), name, mode="append")


def with_deletes(rat: Rat, name: str, rows: int, kind: str, seed: int) -> None:
    """1% of the rows deleted by one delete file (``position`` or ``equality`` on ``id``)."""
    rng = np.random.default_rng(seed)
    table = rat.session.catalog.load_table(name)
    if kind == "equality":
        ids = rng.choice(rows, int(rows * DELETED), replace=False)
        commit_equality_deletes(table, {"id": sorted(int(i) for i in ids)})
        return
    positions: dict[str, list[int]] = {}
    for task in table.scan().plan_files():
        n = task.file.record_count
        picked = rng.choice(n, int(n * DELETED), replace=False)
        positions[task.file.file_path] = sorted(int(p) for p in picked)
    commit_position_deletes(table, positions)


def same_files_copy(rat: Rat, name: str, copy: str) -> None:
    """``copy``: the table as it is now (before its deletes), registered again."""
    table = rat.session.catalog.load_table(name)
    rat.session.catalog.register_table(copy, table.metadata_location)


def compacted_copy(rat: Rat, name: str, copy: str) -> None:
    """``copy``: the same snapshot registered again, then compacted into plain files."""
    table = rat.session.catalog.load_table(name)
    rat.session.catalog.register_table(copy, table.metadata_location)
    report_ = rat.ice_compact(copy)
    assert report_["delete_files_removed"] == 1, report_


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--files", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    files = args.files or (4 if args.quick else 10)
    results: dict[str, Any] = {
        "rows": rows,
        "files": files,
        "deleted": DELETED,
        "repeat": args.repeat,
        "machine": platform.platform(),
        "target": TARGET_RATIO,
        "cases": {},
    }
    worst = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home:
        lh = Lakehouse(Settings.for_home(Path(home)))
        rat = Rat(lh)
        lh.engine.cache.set_limit(0)  # every read decodes the files
        for kind in ("position", "equality"):
            name, plain = f"bench.del_{kind}", f"bench.del_{kind}_compacted"
            same = f"bench.del_{kind}_same_files"
            print(f"  building {name}: {rows:,} rows in {files} files, 1% {kind}-deleted", flush=True)
            build(rat, name, rows, files)
            same_files_copy(rat, name, same)
            with_deletes(rat, name, rows, kind, seed=7)
            compacted_copy(rat, name, plain)
            for label, sql in QUERIES.items():
                ours_sql, base_sql = sql.format(t=f"{{{name}}}"), sql.format(t=f"{{{plain}}}")
                same_sql = sql.format(t=f"{{{same}}}")
                assert (
                    rat.arrow(ours_sql)
                    .sort_by("n" if label == "filtered" else "category")
                    .equals(rat.arrow(base_sql).sort_by("n" if label == "filtered" else "category"))
                ), f"{kind} {label}: the table with delete files and its compaction differ"
                ours, base, like = [], [], []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    rat.arrow(ours_sql)
                    ours.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    rat.arrow(base_sql)
                    base.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    rat.arrow(same_sql)
                    like.append(time.perf_counter() - t0)
                o, b, s = statistics.median(ours), statistics.median(base), statistics.median(like)
                case = f"{kind} deletes {label} ({_short(rows)} rows)"
                report(case, o, b, "compacted", f"<= {TARGET_RATIO}")
                report(case, o, s, "same files", "(like with like)")
                results["cases"][f"{kind}/{label}"] = {
                    "with_deletes_s": o,
                    "compacted_s": b,
                    "ratio": o / b,
                    "same_files_s": s,
                    "ratio_same_files": o / s,
                }
                worst = max(worst, o / b)
        lh.close()
    results["seconds"] = time.perf_counter() - started
    results["peak_rss_mb"] = peak_rss_mb()
    out = HERE / "results" / ("deletes-quick.json" if args.quick else "deletes.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"  worst ratio {worst:.2f} (target <= {TARGET_RATIO}); wrote {out}", flush=True)
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
