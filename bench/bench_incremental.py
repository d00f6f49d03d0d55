"""Incremental transforms: ``{ns.t@new}`` costs what the new rows cost, not what the source holds.

One source table is built through the SDK in batches and grown through a sweep of sizes (full: 5M, 10M,
20M rows; quick: 0.5M, 1M, 2M). At each size, each repetition appends a fresh batch of M rows (full:
1,000,000; quick: 100,000) to the source and times ``rat.transform("SELECT ... FROM {src@new}", ...,
mode="append")`` (the incremental run: an aggregation by category and day); interleaved with it, the
same transform over a separate table holding just M fresh rows (the baseline). Median of ``--repeat``.

The issue's figure is a 100M-row source; building one takes far too long for a routine run, so the full
run stops at 20M rows. Target: incremental on the largest source / baseline <= 1.5, and the incremental
run's cost flat across the sweep.

Figures go to ``bench/results/incremental.json`` and ``docs/img/incremental.png`` (``--quick``:
``bench/results/incremental-quick.json`` and ``bench/results/incremental-quick.png``, git-ignored).

``python bench/bench_incremental.py [--quick] [--sizes 5000000,10000000,20000000] [--new 1000000]``
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_tables import _short, drop, make_rows, peak_rss_mb
from common import report, timed

from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = "bench.events"
BASELINE = "bench.events_new"
TARGET = "silver.daily_incremental"
BASELINE_TARGET = "silver.daily_baseline"
TARGET_RATIO = 1.5
FULL = {"sizes": [5_000_000, 10_000_000, 20_000_000], "new": 1_000_000}
QUICK = {"sizes": [500_000, 1_000_000, 2_000_000], "new": 100_000}
SQL = """
SELECT category, toDate(event_ts) AS day, count() AS orders, sum(amount) AS revenue,
       uniqExact(user_id) AS buyers
FROM {source}
GROUP BY category, day
"""


def grow(lh: Lakehouse, start: int, rows: int, batch_rows: int) -> int:
    """Append ids ``start..rows-1`` to the source through the SDK in batches; return the next id."""
    if rows > start:
        print(f"  growing {SOURCE} to {rows:,} rows in batches of {batch_rows:,}", flush=True)
    for first in range(start, rows, batch_rows):
        lh.write(make_rows(first, min(batch_rows, rows - first)), SOURCE, mode="append")
    return max(start, rows)


def measure(lh: Lakehouse, r: Rat, next_id: int, new: int, repeat: int) -> tuple[float, float, int]:
    """Median seconds of the incremental run and of the baseline; return them and the next id."""
    ours: list[float] = []
    base: list[float] = []
    for _ in range(repeat):
        # The incremental run: a fresh batch lands in the big source, the transform reads just it.
        lh.write(make_rows(next_id, new, seed=5), SOURCE, mode="append")
        seconds, result = timed(
            lambda: r.transform(SQL.format(source=f"{{{SOURCE}@new}}"), TARGET, mode="append")
        )
        ours.append(seconds)
        # The baseline: the same rows' worth in a table of their own, read in full.
        lh.write(make_rows(next_id, new, seed=5), BASELINE, mode="overwrite")
        base_seconds, base_result = timed(
            lambda: r.transform(SQL.format(source=f"{{{BASELINE}}}"), BASELINE_TARGET, mode="append")
        )
        base.append(base_seconds)
        if result["rows"] != base_result["rows"]:
            print(
                f"  note: incremental wrote {result['rows']} rows, baseline {base_result['rows']}", flush=True
            )
        next_id += new
    return statistics.median(ours), statistics.median(base), next_id


def plot(sweep: dict[str, Any], new: int, path: Path) -> None:
    """Seconds of the incremental run and of the baseline against the source's size."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("skipped: plot (matplotlib not installed: pip install -e '.[bench]')", flush=True)
        return
    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    xs = sweep["rows"]
    ax.plot(xs, sweep["incremental"], marker="o", label=f"{{src@new}}: {_short(new)} new rows in the source")
    ax.plot(
        xs, sweep["baseline"], marker="s", linestyle="--", label=f"baseline: a table of {_short(new)} rows"
    )
    ax.set_xscale("log")
    ax.set_xticks(xs, [_short(x) for x in xs])
    ax.minorticks_off()
    ax.set_ylim(0, max(sweep["incremental"] + sweep["baseline"]) * 1.3)
    ax.set_xlabel("source table size (rows)")
    ax.set_ylabel("seconds (median)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("incremental transform: cost vs source size")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (0.5M-2M rows, 100k new)")
    parser.add_argument("--sizes", help="comma-separated source sizes of the sweep (rows)")
    parser.add_argument("--new", type=int, help="rows appended before each incremental run")
    parser.add_argument(
        "--batch-rows", type=int, default=1_000_000, help="rows per write building the source"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="where the results go")
    parser.add_argument("--png", type=Path, help="where the plot goes")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    args.sizes = sorted(int(x) for x in args.sizes.split(",")) if args.sizes else preset["sizes"]
    args.new = args.new or preset["new"]
    suffix = "-quick" if args.quick else ""
    args.json = args.json or HERE / "results" / f"incremental{suffix}.json"
    args.png = args.png or (
        HERE / "results" / "incremental-quick.png" if args.quick else ROOT / "docs/img/incremental.png"
    )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    sweep: dict[str, Any] = {"rows": [], "incremental": [], "baseline": []}
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rat-bench-incremental-") as tmp:
        lh = Lakehouse(Settings.for_home(Path(tmp)))
        r = Rat(lh)
        try:
            next_id = 0
            for size in args.sizes:
                next_id = grow(lh, next_id, size, args.batch_rows)
                # Untimed: consume what the growth added (the first run reads the whole source), and
                # create the baseline's target, so that each timed run reads only its fresh batch.
                seconds, _ = timed(
                    lambda: r.transform(SQL.format(source=f"{{{SOURCE}@new}}"), TARGET, mode="append")
                )
                print(f"  catching up with {size:,} rows: {seconds:.2f} s", flush=True)
                if not sweep["rows"]:
                    lh.write(make_rows(0, args.new, seed=5), BASELINE, mode="overwrite")
                    for _ in range(3):  # warm-up: the engine's first queries are slower
                        r.transform(SQL.format(source=f"{{{BASELINE}}}"), BASELINE_TARGET, mode="append")
                rows = next_id
                ours, base, next_id = measure(lh, r, next_id, args.new, args.repeat)
                sweep["rows"].append(rows)
                sweep["incremental"].append(ours)
                sweep["baseline"].append(base)
                name = f"transform {{src@new}}, {_short(args.new)} new in {_short(rows)}"
                line = report(name, ours, base, f"{_short(args.new)}-row table", f"ratio <= {TARGET_RATIO:g}")
                lines.append(line)
        finally:
            drop(lh, SOURCE, BASELINE, TARGET, BASELINE_TARGET)
            lh.close()
    inc = sweep["incremental"]
    flat = inc[-1] / inc[0]
    print(f"  incremental {_short(sweep['rows'][-1])} vs {_short(sweep['rows'][0])} rows: ratio {flat:.2f} "
          f"({sweep['rows'][-1] / sweep['rows'][0]:.2g}x the rows)", flush=True)  # fmt: skip
    ratio = inc[-1] / sweep["baseline"][-1]
    elapsed = time.perf_counter() - start
    print(f"  peak memory {peak_rss_mb():,.0f} MB, {elapsed:.0f} s", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "quick": args.quick, "new_rows": args.new, "repeat": args.repeat, "sweep": sweep, "lines": lines,
        "ratio": ratio, "target": f"<= {TARGET_RATIO:g}", "ok": ratio <= TARGET_RATIO,
        "flat_ratio": flat, "seconds": elapsed, "platform": platform.platform(),
    }, indent=2) + "\n")  # fmt: skip
    plot(sweep, args.new, args.png)
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
