"""TPC-H: the 22 queries (``bench/tpch/q*.sql``) through ``rat.query`` against DuckDB on the same files.

The tables are generated with ``tpchgen-cli`` and written through the SDK into a temporary lakehouse
(``tpch.lineitem``...; the load time is reported, not part of any ratio). Then, per query:

- **duckdb files**: DuckDB over the Parquet files of each table's current snapshot, the exact files
  ``rat.query`` reads (a view per table over ``read_parquet([...])``);
- **duckdb native**: DuckDB over its own tables loaded from those files (the moonshot baseline);
- **rat files**: ``rat.arrow`` with ``RAT_CACHE_MB=0``, in its own process;
- **rat cold / warm**: ``rat.arrow`` with ``RAT_CACHE_MB`` = ``--cache-mb``, in another process: the first
  pass is cold, the median of the next passes warm.

DuckDB and "rat files" get a warm-up pass; every timed figure is the median of ``--repeat`` passes, and
a total is the sum of the per-query medians. Every rat answer (first and last pass, both modes) must equal
DuckDB's over the same files (row by row; numbers to 2 places): a mismatch prints a FAIL line and the
run exits non-zero. Each rat process reports its memory after the session started and at its peak
(``VmHWM``); the check is: peak with the cache <= cache bound + 1.25 x the peak without it.

Targets: warm / duckdb files <= 1.0, cold / duckdb files <= 2.0, warm / duckdb native <= 1.5 (moonshot).
Figures go to ``bench/results/tpch.json`` (``--quick``: ``tpch-quick.json``, git-ignored); ``--sweep``
runs several scale factors and draws ``docs/img/tpch.png`` (``--quick``: ``bench/results/tpch-quick.png``).

``python bench/bench_tpch.py [--quick | --sf 1 | --sweep] [--repeat 3] [--cache-mb 4096]``
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tpch_common as tc
from common import report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SWEEP = (0.1, 0.3, 1.0)
QUICK_SWEEP = (0.01, 0.03, 0.1)
COLUMNS = ("duckdb_files", "duckdb_native", "rat_files", "rat_cold", "rat_warm", "duckdb_generated")
LABELS = {
    "duckdb_files": "DuckDB over the snapshot's files",
    "duckdb_native": "DuckDB over its own tables",
    "rat_files": "rat.query, RAT_CACHE_MB=0",
    "rat_cold": "rat.query with the cache, cold",
    "rat_warm": "rat.query with the cache, warm",
    "duckdb_generated": "DuckDB over the generator's files",
}
#: (figure, baseline, target ratio or None for "reported")
TARGETS = (
    ("rat_warm", "duckdb_files", 1.0),
    ("rat_cold", "duckdb_files", 2.0),
    ("rat_files", "duckdb_files", None),
    ("rat_warm", "duckdb_native", 1.5),
)
MEMORY_SLACK = 1.25


# -- one rat process -------------------------------------------------------------------------------------


def cache_state(rat: Any) -> dict[str, Any] | None:
    """``rat.cache_info()`` as a dict (None where the SDK has no snapshot cache)."""
    info = getattr(rat, "cache_info", None)
    if info is None:
        return None
    state = info()
    keys = ("entries", "bytes", "hits", "misses", "limit_bytes", "evictions", "fill_failures", "reason")
    return {k: getattr(state, k, None) for k in keys}


def save_answers(answers: dict[str, Any], folder: Path, tag: str) -> None:
    """Each answer as an Arrow file (or its error as text) for the parent to compare."""
    for name, answer in answers.items():
        if isinstance(answer, BaseException):
            (folder / f"{name}-{tag}.error").write_text(f"{type(answer).__name__}: {answer}")
            continue
        with (
            pa.OSFile(str(folder / f"{name}-{tag}.arrow"), "wb") as sink,
            pa.ipc.new_file(sink, answer.schema) as writer,
        ):
            writer.write_table(answer)


def worker(args: argparse.Namespace) -> int:
    """One engine mode in this process: RAT_HOME and RAT_CACHE_MB come from the environment."""
    from ratatouille import rat
    from ratatouille.engine.base import QueryStats
    from ratatouille.engine.client import QueryTracker

    start = time.perf_counter()
    rat.connect()
    # The engine starts and the read path is imported here, not in the first query; the cache is
    # emptied after, so the first pass is cold.
    rat.arrow(f"SELECT count() FROM {{{tc.NAMESPACE}.region}}")
    clear = getattr(rat, "cache_clear", None)
    if clear is not None:
        clear()
    out: dict[str, Any] = {"cache_mb": os.environ.get("RAT_CACHE_MB"), "baseline_rss_mb": tc.rss_mb(),
                           "start_s": time.perf_counter() - start}  # fmt: skip
    sqls = tc.queries()
    first, answers = tc.run_pass(rat.arrow, sqls)
    save_answers(answers, args.answers, "first")
    out["first_s"], out["cache_after_first"] = first, cache_state(rat)
    passes = []
    for _ in range(args.repeat):
        seconds, answers = tc.run_pass(rat.arrow, sqls)
        passes.append(seconds)
    save_answers(answers, args.answers, "last")
    out["passes_s"], out["median_s"], out["cache_after"] = passes, tc.medians(passes), cache_state(rat)
    out["peak_rss_mb"] = tc.peak_rss_mb()
    stats: dict[str, Any] = {}
    for name, sql in sqls.items():  # engine figures of one more (untimed, tracked) pass
        st, expand_s = QueryStats(), math.nan
        with contextlib.suppress(Exception), rat.session.engine.tracking(QueryTracker()):
            expand_s = tc.timed(lambda sql=sql: rat.session.expand(sql))
            rat.session.query_arrow(sql, stats=st)
        stats[name] = {"expand_s": expand_s, "engine_s": st.elapsed_s, "read_rows": st.read_rows,
                       "read_bytes": st.read_bytes}  # fmt: skip
    out["engine_stats"] = stats
    args.out.write_text(json.dumps(out, default=str))
    return 0


def run_worker(mode: str, cache_mb: int, home: Path, tmp: Path, repeat: int) -> tuple[dict[str, Any], Path]:
    """Run one rat mode in a fresh process; (its figures, the folder of its answers)."""
    answers, out = tmp / f"answers-{mode}", tmp / f"{mode}.json"
    answers.mkdir()
    env = {**os.environ, "RAT_HOME": str(home), "RAT_CACHE_MB": str(cache_mb)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--repeat", str(repeat),
               "--answers", str(answers), "--out", str(out)]  # fmt: skip
    print(f"-- rat {mode} (RAT_CACHE_MB={cache_mb}), own process", flush=True)
    rc = subprocess.call(command, env=env, cwd=home)
    if rc != 0 or not out.exists():
        return {"error": f"exit {rc}"}, answers
    return json.loads(out.read_text()), answers


def read_answer(folder: Path, name: str, tag: str) -> Any:
    arrow, error = folder / f"{name}-{tag}.arrow", folder / f"{name}-{tag}.error"
    if arrow.exists():
        with pa.memory_map(str(arrow)) as source:
            return pa.ipc.open_file(source).read_all()
    return RuntimeError(error.read_text() if error.exists() else "no answer")


# -- one scale factor ------------------------------------------------------------------------------------


def duckdb_mode(
    files: dict[str, list[str]], native: bool, sqls: dict[str, str], repeat: int
) -> dict[str, Any]:
    """Warm-up pass and ``repeat`` timed passes of DuckDB (views over the files, or its own tables)."""
    print(f"-- duckdb {'native' if native else 'files'}", flush=True)
    start = time.perf_counter()
    con = tc.duckdb_connection(files, native)
    setup_s = time.perf_counter() - start
    plain = {name: tc.plain_sql(sql) for name, sql in sqls.items()}

    def run(sql: str) -> pa.Table:
        return con.sql(sql).to_arrow_table()

    _, answers = tc.run_pass(run, plain)
    passes = [tc.run_pass(run, plain)[0] for _ in range(repeat)]
    con.close()
    return {"setup_s": setup_s, "passes_s": passes, "median_s": tc.medians(passes), "answers": answers}


def run_sf(sf: float, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, load and measure one scale factor in a temporary folder (removed at the end)."""
    from ratatouille import rat

    print(f"== TPC-H SF {sf:g}", flush=True)
    sqls = tc.queries()
    res: dict[str, Any] = {"sf": sf, "mismatches": [], "errors": [], "load_average": [os.getloadavg()[0]]}
    with tempfile.TemporaryDirectory(prefix="rat-bench-tpch-") as name:
        tmp = Path(name)
        home = tmp / "home"
        res["generate_s"] = tc.generate(sf, tmp / "data")
        lh = rat.connect(home=home)
        start = time.perf_counter()
        res["rows"] = tc.load(rat, tmp / "data", args.batch_rows)
        res["load_s"] = time.perf_counter() - start
        res["files_loaded"] = {t: len(tc.snapshot_files(lh.catalog, t)) for t in tc.TABLES}
        if not args.no_compact:
            # A maintained table: the batches' files bin-packed, as `rat.ice_maintain` would.
            start = time.perf_counter()
            for t in tc.TABLES:
                rat.ice_compact(f"{tc.NAMESPACE}.{t}", target_file_mb=512)
            res["compact_s"] = time.perf_counter() - start
        generated = {t: [str(p) for p in tc.parquet_files(tmp / "data", t)] for t in tc.TABLES}
        generated_duck = duckdb_mode(generated, False, sqls, args.repeat)
        generated_duck.pop("answers")
        shutil.rmtree(tmp / "data")
        files = {t: tc.snapshot_files(lh.catalog, t) for t in tc.TABLES}
        lh.close()
        res["files"] = {t: len(paths) for t, paths in files.items()}
        res["data_mb"] = sum(os.path.getsize(p) for paths in files.values() for p in paths) / 2**20
        print(f"  load {res['load_s']:.1f} s, {res['data_mb']:.0f} MB of Parquet", flush=True)
        duck = duckdb_mode(files, False, sqls, args.repeat)
        native = duckdb_mode(files, True, sqls, args.repeat)
        check_answers(res, "duckdb native", native.pop("answers"), duck["answers"])
        engines = {}
        bounded_mb = args.bounded_mb if args.bounded_mb is not None else max(64, int(1536 * sf))
        modes = (("files", 0, args.repeat), ("cache", args.cache_mb, args.repeat), ("bounded", bounded_mb, 1))
        for mode, cache_mb, repeat in modes:
            engines[mode], folder = run_worker(mode, cache_mb, home, tmp, repeat)
            if "error" in engines[mode]:
                res["errors"].append(f"rat {mode}: {engines[mode]['error']}")
                print(f"FAIL rat {mode}: the process failed ({engines[mode]['error']})", flush=True)
            for tag in ("first", "last"):
                ours = {n: read_answer(folder, n, tag) for n in sqls}
                check_answers(res, f"rat {mode} ({tag} pass)", ours, duck["answers"])
        duck.pop("answers")
    nan = dict.fromkeys(sqls, math.nan)
    res["seconds"] = {
        "duckdb_files": duck["median_s"],
        "duckdb_native": native["median_s"],
        "duckdb_generated": generated_duck["median_s"],
        "rat_files": engines["files"].get("median_s", nan),
        "rat_cold": engines["cache"].get("first_s", nan),
        "rat_warm": engines["cache"].get("median_s", nan),
    }
    res["load_average"].append(os.getloadavg()[0])  # other work on the machine, at the start and end
    res["duckdb"] = {"files": duck, "native": native, "generated": generated_duck}
    res["engines"] = engines
    print_table(res["seconds"])
    summary(res, args.cache_mb, bounded_mb)
    return res


def check_answers(res: dict[str, Any], label: str, ours: dict[str, Any], expected: dict[str, Any]) -> None:
    """Compare every answer with DuckDB's over the same files; print and record a FAIL per mismatch."""
    for name in expected:
        problem = tc.compare(ours.get(name), expected[name])
        if problem is not None:
            print(f"FAIL {name} {label}: {problem}", flush=True)
            res["mismatches"].append({"query": name, "mode": label, "detail": problem})


def print_table(seconds: dict[str, dict[str, float]]) -> None:
    """Per-query milliseconds of every mode, and the totals."""
    print(f"{'q':<5}" + "".join(f"{c.replace('_', ' '):>15}" for c in COLUMNS) + f"{'warm/duckdb':>12}")
    names = list(seconds["duckdb_files"])
    for name in [*names, "total"]:
        row = [tc.total(seconds[c]) if name == "total" else seconds[c][name] for c in COLUMNS]
        ratio = row[4] / row[0] if row[0] else math.nan  # warm, against DuckDB over the same files
        print(f"{name:<5}" + "".join(f"{v * 1000:13.1f}ms" for v in row) + f"{ratio:12.2f}")


def summary(res: dict[str, Any], cache_mb: int, bounded_mb: int) -> None:
    """The ratio lines against the targets, and the memory checks."""
    totals = {c: tc.total(res["seconds"][c]) for c in COLUMNS}
    res["totals_s"], res["ratios"] = totals, []
    for ours, base, limit in TARGETS:
        target = f"ratio <= {limit:g}" if limit is not None else "reported"
        name = f"TPC-H SF {res['sf']:g}: {ours.replace('_', ' ')} total"
        report(name, totals[ours], totals[base], base.replace("_", " "), target)
        value = totals[ours] / totals[base] if totals[base] else math.nan
        res["ratios"].append({"name": name, "ours": totals[ours], "baseline": totals[base],
                              "baseline_name": base, "ratio": value, "target": target,
                              "ok": None if limit is None else value <= limit})  # fmt: skip
    report(f"TPC-H SF {res['sf']:g}: rat warm total", totals["rat_warm"], totals["duckdb_generated"],
           "duckdb generated files", "reported")  # fmt: skip
    files = res["engines"]["files"]
    res["memory"] = []
    for mode, bound in (("cache", cache_mb), ("bounded", bounded_mb)):
        run = res["engines"].get(mode, {})
        if "peak_rss_mb" not in files or "peak_rss_mb" not in run:
            continue
        # The bound: RAT_CACHE_MB plus the process's own peak without a cache, and 25% on top.
        limit_mb = MEMORY_SLACK * (bound + files["peak_rss_mb"])
        ok = run["peak_rss_mb"] <= limit_mb
        cached = run.get("cache_after") or {}
        res["memory"].append({"mode": mode, "cache_mb": bound, "files_peak_mb": files["peak_rss_mb"],
                              "peak_mb": run["peak_rss_mb"], "limit_mb": limit_mb, "ok": ok,
                              "cache": cached})  # fmt: skip
        label = f"TPC-H SF {res['sf']:g}: peak memory, RAT_CACHE_MB={bound}"
        print(
            f"{label:<44} ours {run['peak_rss_mb']:9.0f} MB"
            f"   bound {limit_mb:9.0f} MB ({MEMORY_SLACK:g} x ({bound} + {files['peak_rss_mb']:.0f}))"
            f"   {'ok' if ok else 'FAILED'}   (cache: {cached.get('entries')} entries,"
            f" {cached.get('bytes', 0) / 2**20:.0f} MB, {cached.get('evictions')} evictions)",
            flush=True,
        )


# -- output ----------------------------------------------------------------------------------------------


def plot(runs: list[dict[str, Any]], png: Path) -> None:
    """Totals per mode against the scale factor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    sfs = [r["sf"] for r in runs]
    for column, style in zip(COLUMNS, ("k--", "k:", "C0-o", "C1-s", "C2-^", "C7-."), strict=True):
        ax.plot(sfs, [r["totals_s"][column] for r in runs], style, label=LABELS[column])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sfs, [f"{s:g}" for s in sfs])
    ax.set_xlabel("scale factor")
    ax.set_ylabel("22 queries, sum of medians (s)")
    ax.set_title("TPC-H: rat.query against DuckDB on the same Parquet files")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
    print(f"  plot: {png}", flush=True)


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("ratatouille", "pyiceberg", "pyarrow", "chdb", "duckdb", "tpchgen-cli"):
        with contextlib.suppress(PackageNotFoundError):
            out[package] = version(package)
    return out


def save(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    doc = {
        "benchmark": "tpch",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
        "versions": versions(),
        "args": {
            "sfs": args.sfs,
            "repeat": args.repeat,
            "cache_mb": args.cache_mb,
            "batch_rows": args.batch_rows,
        },
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(json_safe(doc), indent=1, default=str) + "\n")
    print(f"  figures: {args.json}", flush=True)


# -- main ------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="SF 0.1 (sweep: 0.01, 0.03, 0.1)")
    parser.add_argument("--sf", type=float, help="scale factor (default 1)")
    parser.add_argument("--sweep", action="store_true", help="SF 0.1, 0.3 and 1, and the plot")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per median")
    parser.add_argument("--cache-mb", type=int, default=4096, help="RAT_CACHE_MB of the cache mode")
    parser.add_argument("--bounded-mb", type=int, help="RAT_CACHE_MB of the memory check (1536 x SF)")
    parser.add_argument("--no-compact", action="store_true", help="keep the files of the load's batches")
    parser.add_argument("--batch-rows", type=int, default=2_000_000, help="rows per SDK write when loading")
    parser.add_argument("--json", type=Path, help="where the figures go")
    parser.add_argument("--png", type=Path, help="where the plot goes (--sweep)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sweep:
        args.sfs = list(QUICK_SWEEP if args.quick else SWEEP)
    else:
        args.sfs = [args.sf if args.sf is not None else 0.1 if args.quick else 1.0]
    suffix = "-quick" if args.quick else ""
    args.json = args.json or HERE / "results" / f"tpch{suffix}.json"
    args.png = args.png or (HERE / "results" / "tpch-quick.png" if args.quick else ROOT / "docs/img/tpch.png")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    start = time.perf_counter()
    runs = [run_sf(sf, args) for sf in args.sfs]
    save(runs, args)
    if args.sweep:
        plot(runs, args.png)
    bad = sum(len(r["mismatches"]) + len(r["errors"]) for r in runs)
    print(f"  {bad} mismatching answers or failures; {time.perf_counter() - start:.0f} s", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
