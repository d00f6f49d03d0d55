"""Row-level deletes: a table with 1% of its rows deleted reads within 1.5x of itself compacted.

One table of N rows (full: 10M in 10 files; quick: 1M in 4 files) gets delete files for 1% of its rows,
chosen at random: position deletes (one file naming rows of every data file) in one table, equality
deletes on ``id`` in another. Each is registered a second time and compacted with ``rat.ice_compact``
(the same rows, plain files, no delete file). Compaction bin-packs the files (10 become 1), so a third
table compares like with like: the snapshot before the deletes, registered apart (the same data files,
1% more rows, no delete file). The queries below run on the three, interleaved, with the snapshot cache
off (every read decodes the files); medians of ``--repeat``. Target: ratio to the compacted table <= 1.5.

Two references go with each case: the **floor**, the same data files read with a filter that drops 1% of
the rows and needs no delete file (``FLOORS``: what the engine pays before any lookup), and, for position
deletes, **iceberg-rust** (pyiceberg-core's DataFusion provider) reading the table with deletes against
its own read of the compacted table.

Figures go to ``bench/results/deletes.json`` (``--quick``: ``bench/results/deletes-quick.json``).

``--sweep``: the ratio (with delete files / compacted, cache off, interleaved, medians of ``--repeat``)
for both kinds of delete files and both queries, in three parts:

- against the fraction deleted: 0.1%, 1%, 5%, 20% of 4M rows in 8 files (each point a copy of one
  table with one delete file);
- against the table's size: 1M, 4M, 16M rows at 1%, in files of 1M rows;
- against history: the 4M-row table after 1, 4 and 16 delete commits (one delete file each, 0.25% of
  the rows picked anew each time), each against its snapshot compacted; then the table compacted in
  place (``rat.ice_compact``) against the last of these.

Sizes are chosen to keep the sweep to about 3 minutes on a 2-core machine (the 16M-row table is the
largest; a 10M-row default table in the size part would add little). ``--quick``: a quarter of the rows
(1M in 4 files; 250k, 1M, 4M in files of 250k). Figures go to ``bench/results/deletes-sweep.json`` and
``docs/img/deletes.png`` (``--quick``: ``bench/results/deletes-sweep-quick.json`` and ``.png``,
git-ignored).

``python bench/bench_deletes.py [--quick] [--rows 10000000] [--files 10] [--repeat 5]``
``python bench/bench_deletes.py --sweep [--quick] [--repeat 5]``
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
from ratatouille.reading import physical_schema, structure_of
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille.testing import commit_equality_deletes, commit_position_deletes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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


def with_deletes(rat: Rat, name: str, rows: int, kind: str, seed: int, fraction: float = DELETED) -> None:
    """``fraction`` of the rows (1%) deleted by one delete file (``position`` or ``equality`` on ``id``)."""
    rng = np.random.default_rng(seed)
    table = rat.session.catalog.load_table(name)
    if kind == "equality":
        ids = rng.choice(rows, int(rows * fraction), replace=False)
        commit_equality_deletes(table, {"id": sorted(int(i) for i in ids)})
        return
    positions: dict[str, list[int]] = {}
    for task in table.scan().plan_files():
        n = task.file.record_count
        picked = rng.choice(n, int(n * fraction), replace=False)
        positions[task.file.file_path] = sorted(int(p) for p in picked)
    commit_position_deletes(table, positions)


def same_files_copy(rat: Rat, name: str, copy: str) -> None:
    """``copy``: the table as it is now (before its deletes), registered again."""
    table = rat.session.catalog.load_table(name)
    rat.session.catalog.register_table(copy, table.metadata_location)


#: Filters that drop 1% of the rows and need no delete file: the least any reader of this engine pays for
#: applying deletes of that kind (position deletes must ask for the row number; equality deletes must
#: read the key column). Measured on the data files of the table before its deletes.
FLOORS = {"position": "_row_number % 100 != 7", "equality": "id % 100 != 7"}


def floor_source(rat: Rat, name: str, kind: str) -> str:
    """A read of ``name``'s data files (no delete file) less 1% of its rows by ``FLOORS[kind]``."""
    table = rat.session.catalog.load_table(name)
    files = [task.file.file_path for task in table.scan().plan_files()]
    source = rat.session.engine.file_source(files, structure_of(physical_schema(table.schema())))
    return f"(SELECT * FROM {source} WHERE {FLOORS[kind]})"


def rust_ratios(rat: Rat, name: str, plain: str, repeat: int) -> dict[str, dict[str, float]]:
    """Each query's medians on ``name`` and ``plain`` read by iceberg-rust (pyiceberg-core's DataFusion).

    What another Iceberg reader pays for the same delete files, against its own read of the compacted
    table. Empty when the ``datafusion`` package (a test extra) is missing.
    """
    try:
        import datafusion
        from pyiceberg_core.datafusion import IcebergDataFusionTable
    except ImportError:
        return {}
    ctx = datafusion.SessionContext()
    for alias, table_name in (("ours", name), ("base", plain)):
        table = rat.session.catalog.load_table(table_name)
        provider = IcebergDataFusionTable(
            identifier=list(table.name()), metadata_location=table.metadata_location, file_io_properties={}
        )
        ctx.register_table(alias, provider)
    out = {}
    for label, sql in QUERIES.items():
        times: dict[str, list[float]] = {"ours": [], "base": []}
        for _ in range(repeat):
            for alias in times:
                t0 = time.perf_counter()
                ctx.sql(sql.replace("count()", "count(*)").format(t=alias)).to_arrow_table()
                times[alias].append(time.perf_counter() - t0)
        o, b = statistics.median(times["ours"]), statistics.median(times["base"])
        report(f"iceberg-rust position {label}", o, b, "its compacted", "(another reader)")
        out[label] = {"with_deletes_s": o, "compacted_s": b, "ratio": o / b}
    return out


def compacted_copy(rat: Rat, name: str, copy: str, delete_files: int = 1) -> None:
    """``copy``: the same snapshot registered again, then compacted into plain files."""
    table = rat.session.catalog.load_table(name)
    rat.session.catalog.register_table(copy, table.metadata_location)
    report_ = rat.ice_compact(copy)
    assert report_["delete_files_removed"] == delete_files, report_


# -- the sweep -------------------------------------------------------------------------------------------

KINDS = ("position", "equality")
SWEEP = {
    "full": {"rows": 4_000_000, "files": 8, "fractions": [0.001, 0.01, 0.05, 0.2],
             "sizes": [1_000_000, 4_000_000, 16_000_000], "rows_per_file": 1_000_000,
             "commits": [1, 4, 16], "step": 0.0025},
    "quick": {"rows": 1_000_000, "files": 4, "fractions": [0.001, 0.01, 0.05, 0.2],
              "sizes": [250_000, 1_000_000, 4_000_000], "rows_per_file": 250_000,
              "commits": [1, 4, 16], "step": 0.0025},
}  # fmt: skip


def same_rows(rat: Rat, label: str, ours_sql: str, base_sql: str, what: str) -> None:
    """The query gives the same rows on the table with delete files and on its compaction."""
    key = "n" if label == "filtered" else "category"
    assert rat.arrow(ours_sql).sort_by(key).equals(rat.arrow(base_sql).sort_by(key)), (
        f"{what} {label}: the table with delete files and its compaction differ"
    )


def interleaved(rat: Rat, queries: dict[str, str], repeat: int) -> dict[str, float]:
    """The median seconds of each query, the queries run in turn ``repeat`` times."""
    times: dict[str, list[float]] = {k: [] for k in queries}
    for _ in range(repeat):
        for k, sql in queries.items():
            t0 = time.perf_counter()
            rat.arrow(sql)
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def measure(rat: Rat, name: str, plain: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Each query on ``name`` (with delete files) and ``plain`` (compacted), interleaved: medians."""
    out = {}
    for label, sql in QUERIES.items():
        ours_sql, base_sql = sql.format(t=f"{{{name}}}"), sql.format(t=f"{{{plain}}}")
        same_rows(rat, label, ours_sql, base_sql, name)
        m = interleaved(rat, {"ours": ours_sql, "base": base_sql}, repeat)
        out[label] = (m["ours"], m["base"])
    return out


def record(panel: dict[str, Any], kind: str, at: str, measured: dict[str, tuple[float, float]]) -> None:
    for label, (o, b) in measured.items():
        case = panel["cases"].setdefault(
            f"{kind}/{label}", {"with_deletes_s": [], "compacted_s": [], "ratio": []}
        )
        case["with_deletes_s"].append(o)
        case["compacted_s"].append(b)
        case["ratio"].append(o / b)
        report(f"{kind} {label}, {at}", o, b, "compacted", f"<= {TARGET_RATIO}")


def sweep_fraction(rat: Rat, base: str, p: dict[str, Any], repeat: int) -> dict[str, Any]:
    """(a) The fraction deleted, at one size: each point a copy of ``base`` with one delete file."""
    rows, panel = p["rows"], {"x": p["fractions"], "rows": p["rows"], "files": p["files"], "cases": {}}
    for kind in KINDS:
        for i, fraction in enumerate(p["fractions"]):
            name = f"bench.frac_{kind}_{i}"
            same_files_copy(rat, base, name)
            with_deletes(rat, name, rows, kind, seed=7 + i, fraction=fraction)
            compacted_copy(rat, name, f"{name}_compacted")
            measured = measure(rat, name, f"{name}_compacted", repeat)
            record(panel, kind, f"{fraction:.1%} of {_short(rows)}", measured)
    return panel


def sweep_size(rat: Rat, p: dict[str, Any], repeat: int) -> dict[str, Any]:
    """(b) The table's size at 1% deleted, files of ``rows_per_file`` rows."""
    panel: dict[str, Any] = {"x": p["sizes"], "rows_per_file": p["rows_per_file"], "cases": {}}
    for rows in p["sizes"]:
        base = f"bench.size_{_short(rows).replace('.', '_')}"
        build(rat, base, rows, max(1, rows // p["rows_per_file"]))
        for kind in KINDS:
            name = f"{base}_{kind}"
            same_files_copy(rat, base, name)
            with_deletes(rat, name, rows, kind, seed=7)
            compacted_copy(rat, name, f"{name}_compacted")
            record(panel, kind, f"1% of {_short(rows)}", measure(rat, name, f"{name}_compacted", repeat))
    return panel


def sweep_history(rat: Rat, base: str, p: dict[str, Any], repeat: int) -> dict[str, Any]:
    """(c) One table after 1, 4, 16 delete commits (one delete file each), then compacted in place."""
    rows, commits = p["rows"], p["commits"]
    panel: dict[str, Any] = {
        "x": [*commits, "compacted"], "rows": rows, "files": p["files"], "step": p["step"],
        "rows_left": {}, "cases": {},
    }  # fmt: skip
    for kind in KINDS:
        name = f"bench.hist_{kind}"
        same_files_copy(rat, base, name)
        left = panel["rows_left"][kind] = []
        for n in range(1, commits[-1] + 1):
            with_deletes(rat, name, rows, kind, seed=100 + n, fraction=p["step"])
            if n in commits:
                plain = f"{name}_{n}_compacted"
                compacted_copy(rat, name, plain, delete_files=n)
                left.append(int(rat.arrow(f"SELECT count() AS n FROM {{{plain}}}")["n"][0].as_py()))
                record(panel, kind, f"{n} delete files", measure(rat, name, plain, repeat))
        report_ = rat.ice_compact(name)
        assert report_["delete_files_removed"] == commits[-1], report_
        left.append(left[-1])
        measured = measure(rat, name, plain, repeat)
        record(panel, kind, f"{commits[-1]} delete files, then ice_compact", measured)
    return panel


def plot(sweep: dict[str, Any], path: Path) -> None:
    """Three panels, the ratio with deletes / compacted against fraction, size and history."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        print("skipped: plot (matplotlib not installed: pip install -e '.[bench]')", flush=True)
        return
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), constrained_layout=True)
    colors = {"position": "C0", "equality": "C3"}
    styles = {"aggregate": ("o", "-"), "filtered": ("s", "--")}
    frac, size, hist = sweep["fraction"], sweep["size"], sweep["history"]
    last = hist["x"][-2]
    panels = [
        (frac, [x * 100 for x in frac["x"]], [f"{x * 100:g}%" for x in frac["x"]], "log",
         "fraction of the rows deleted", f"vs fraction deleted ({_short(frac['rows'])} rows, "
         f"{frac['files']} files)"),
        (size, size["x"], [_short(x) for x in size["x"]], "log", "table size (rows)",
         f"vs table size (1% deleted, {_short(size['rows_per_file'])}-row files)"),
        (hist, list(range(len(hist["x"]))), [*(str(x) for x in hist["x"][:-1]), f"{last}, then\nice_compact"],
         "linear", "delete commits (one delete file each)",
         f"vs history (+{hist['step']:.2%} deleted per commit)"),
    ]  # fmt: skip
    top = max(r for panel in (frac, size, hist) for c in panel["cases"].values() for r in c["ratio"])
    for ax, (data, xs, ticks, scale, xlabel, title) in zip(axes, panels, strict=True):
        ax.axhline(TARGET_RATIO, color="black", linestyle=":", linewidth=1.5, label=f"target {TARGET_RATIO}")
        ax.axhline(1.0, color="grey", linewidth=0.8, alpha=0.6)
        for kind in KINDS:
            for label, (marker, line) in styles.items():
                ratios = data["cases"][f"{kind}/{label}"]["ratio"]
                ax.plot(
                    xs, ratios, marker=marker, linestyle=line, color=colors[kind], label=f"{kind}, {label}"
                )
        ax.set_xscale(scale)
        ax.set_xticks(xs, ticks)
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.set_ylim(0, top * 1.1)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize="medium")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("time with delete files / compacted")
    axes[0].legend(fontsize="small")
    fig.suptitle("row-level deletes: read cost against the same table compacted (snapshot cache off)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)


def run_sweep(quick: bool, repeat: int) -> int:
    p = SWEEP["quick" if quick else "full"]
    started = time.perf_counter()
    sweep: dict[str, Any] = {"quick": quick, "repeat": repeat, "target": TARGET_RATIO}
    with tempfile.TemporaryDirectory() as home:
        lh = Lakehouse(Settings.for_home(Path(home)))
        rat = Rat(lh)
        lh.engine.cache.set_limit(0)  # every read decodes the files
        base = "bench.sweep_base"
        print(f"  building {base}: {p['rows']:,} rows in {p['files']} files", flush=True)
        build(rat, base, p["rows"], p["files"])
        sweep["fraction"] = sweep_fraction(rat, base, p, repeat)
        sweep["size"] = sweep_size(rat, p, repeat)
        sweep["history"] = sweep_history(rat, base, p, repeat)
        lh.close()
    sweep["seconds"] = time.perf_counter() - started
    sweep["peak_rss_mb"] = peak_rss_mb()
    sweep["machine"] = platform.platform()
    suffix = "-quick" if quick else ""
    out = HERE / "results" / f"deletes-sweep{suffix}.json"
    out.write_text(json.dumps(sweep, indent=2) + "\n")
    print(f"  {sweep['seconds']:.0f} s, peak memory {sweep['peak_rss_mb']:,.0f} MB; wrote {out}", flush=True)
    plot(sweep, HERE / "results" / "deletes-sweep-quick.png" if quick else ROOT / "docs/img/deletes.png")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--files", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="the ratio against fraction, size and history")
    args = parser.parse_args()
    if args.sweep:
        return run_sweep(args.quick, args.repeat)
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
            floor = floor_source(rat, same, kind)
            with_deletes(rat, name, rows, kind, seed=7)
            compacted_copy(rat, name, plain)
            for label, sql in QUERIES.items():
                ours_sql, base_sql = sql.format(t=f"{{{name}}}"), sql.format(t=f"{{{plain}}}")
                same_sql = sql.format(t=f"{{{same}}}")
                floor_sql = sql.format(t=floor)
                same_rows(rat, label, ours_sql, base_sql, kind)
                queries = {"ours": ours_sql, "base": base_sql, "same": same_sql, "floor": floor_sql}
                m = interleaved(rat, queries, args.repeat)
                o, b, s, f = m["ours"], m["base"], m["same"], m["floor"]
                case = f"{kind} deletes {label} ({_short(rows)} rows)"
                report(case, o, b, "compacted", f"<= {TARGET_RATIO}")
                report(case, o, s, "same files", "(like with like)")
                report(f"{kind} floor {label}", f, b, "compacted", f"({FLOORS[kind]}, no delete file)")
                results["cases"][f"{kind}/{label}"] = {
                    "with_deletes_s": o,
                    "compacted_s": b,
                    "ratio": o / b,
                    "same_files_s": s,
                    "ratio_same_files": o / s,
                    "floor": FLOORS[kind],
                    "floor_s": f,
                    "floor_ratio": f / b,
                }
                worst = max(worst, o / b)
            if kind == "position":  # iceberg-rust's equality deletes take minutes here (see docs)
                for label, rust in rust_ratios(rat, name, plain, args.repeat).items():
                    results["cases"][f"{kind}/{label}"]["iceberg_rust"] = rust
        lh.close()
    results["seconds"] = time.perf_counter() - started
    results["peak_rss_mb"] = peak_rss_mb()
    out = HERE / "results" / ("deletes-quick.json" if args.quick else "deletes.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"  worst ratio {worst:.2f} (target <= {TARGET_RATIO}); wrote {out}", flush=True)
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
