"""What data-quality checks add to a pipeline run of the tutorial.

The tutorial's checked pipeline, ``notebooks/pipelines/quality_sales.ipynb`` (an incremental ``%%rat_sql``
merge into ``silver.sales_daily``, then ``%rat_check`` with three shortcuts, a ``%%rat_check`` SQL warn
check and ``%rat_doc``), runs as it is ("with checks") and as a copy without its two check cells
("without"), on the same data: before every run, untimed, ``bronze.sales`` is overwritten with the
tutorial's ``notebooks/data/sales.csv`` (what the ``ingest_sales`` pipeline does), so each run merges
the same rows (``on_rewrite=full`` reads the rewritten source in full).

Both variants run through the real pipeline runner, two ways: ``rat pipelines run`` (a Dagster
in-process run recorded in the lakehouse's Dagster instance, the checks reported as asset checks) and
``rat pipelines run --no-dagster`` (:func:`run_pipeline` alone: the smaller run, so the larger share).
Each way, after one warm-up run of each variant, the variants alternate (the order swapped every round)
``--repeat`` times; the figure is median(with checks) / median(without). Target: <= 1.10.

The checks' own time is taken from the executed notebooks of the runs with checks: the two check cells'
durations as papermill records them (parsing, validation, the engine queries, the run log, the display),
and of that the engine's queries alone (each result's ``elapsed_s``).

Figures go to ``bench/results/checks.json`` (``--quick``: ``bench/results/checks-quick.json``, git-ignored).

``python bench/bench_checks.py [--quick] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "notebooks" / "pipelines"
DATA = ROOT / "notebooks" / "data"
NOTEBOOK = "quality_sales"
WITHOUT = "quality_sales_nochecks"
TARGET_RATIO = 1.10


def is_check_cell(cell: dict[str, Any]) -> bool:
    """A ``%rat_check`` line or ``%%rat_check`` cell."""
    source = cell.get("source", "")
    text = source if isinstance(source, str) else "".join(source)
    return cell.get("cell_type") == "code" and text.lstrip().startswith(("%rat_check", "%%rat_check"))


def write_without_checks(source: Path, target: Path) -> int:
    """Copy the notebook without its check cells; return how many were left out."""
    doc = json.loads(source.read_text())
    kept = [cell for cell in doc["cells"] if not is_check_cell(cell)]
    dropped = len(doc["cells"]) - len(kept)
    doc["cells"] = kept
    target.write_text(json.dumps(doc, indent=1))
    return dropped


def check_seconds(output: str, checks: list[dict[str, Any]]) -> tuple[float, float]:
    """(seconds of the check cells as papermill recorded them, seconds of the checks' engine queries)."""
    doc = json.loads(Path(output).read_text())
    cells = sum(
        float((cell.get("metadata", {}).get("papermill") or {}).get("duration") or 0.0)
        for cell in doc["cells"]
        if is_check_cell(cell)
    )
    return cells, sum(float(c.get("elapsed_s") or 0.0) for c in checks)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its ended children (the runs' kernels), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Samples:
    """One variant's runs: wall seconds, CPU seconds (this process and the kernel), run records."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)


Run = tuple[Callable[[], None], Callable[[], Any]]


def alternate(with_checks: Run, without: Run, repeat: int) -> tuple[Samples, Samples]:
    """Both variants' runs, alternated (the order swapped every round) after one warm-up each.

    Each variant is (its untimed preparation, its timed run returning the run record).
    """
    for prepare, run in (with_checks, without):
        prepare()
        run()
    a, b = Samples(), Samples()
    for i in range(repeat):
        order = ((with_checks, a), (without, b)) if i % 2 == 0 else ((without, b), (with_checks, a))
        for (prepare, run), samples in order:
            prepare()
            wall, cpu = time.perf_counter(), cpu_seconds()
            record = run()
            samples.wall.append(time.perf_counter() - wall)
            samples.cpu.append(cpu_seconds() - cpu)
            samples.records.append(record)
    return a, b


class Variant:
    """One variant's lakehouse: its own home holding the notebook as ``quality_sales``, the tutorial's data
    and a Dagster instance (a table is the asset of one pipeline, so the variants cannot share a home)."""

    def __init__(self, home: Path, notebook: Callable[[Path], None]) -> None:
        import dagster as dg

        from ratatouille.config import Settings
        from ratatouille.sdk import Rat
        from ratatouille.session import Lakehouse
        from ratatouille_jupyter.pipelines.serve import prepare_dagster_home

        self.settings = Settings.for_home(home)
        folder = Path(self.settings.pipelines_dir)
        folder.mkdir(parents=True)
        notebook(folder / f"{NOTEBOOK}.ipynb")
        shutil.copytree(DATA, folder.parent / "data")
        self.csv = str(folder.parent / "data" / "sales.csv")
        self.lh = Lakehouse(self.settings)
        self.rat = Rat(self.lh)
        self.instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(self.settings)))

    def ingest(self) -> None:
        """What the ingest_sales pipeline writes: the same rows before every run."""
        self.rat.ice_ingest(self.csv, "bronze.sales", mode="overwrite")

    def prepare(self) -> None:
        """Untimed, ahead of a run: the same rows in the source."""
        self.ingest()

    def run(self, dagster: bool) -> Any:
        """Run the pipeline; return its run record."""
        from ratatouille_jupyter.pipelines import records
        from ratatouille_jupyter.pipelines.dagster_defs import execute_in_process
        from ratatouille_jupyter.pipelines.runner import run_pipeline
        from ratatouille_jupyter.pipelines.spec import discover

        if dagster:
            ok, _ = execute_in_process(discover(self.settings).get(NOTEBOOK), self.settings,
                                       instance=self.instance, log_level="ERROR")  # fmt: skip
            record = records.last_run(self.settings, NOTEBOOK)
            assert ok and record is not None and record.ok, record and record.message()
        else:
            record = run_pipeline(discover(self.settings).get(NOTEBOOK), self.settings)
            assert record.ok, record.message()
        return record

    def timed(self, dagster: bool) -> Run:
        """For :func:`alternate`: (the untimed preparation, the timed run)."""
        return self.prepare, lambda: self.run(dagster)

    def close(self) -> None:
        self.instance.dispose()
        self.lh.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 runs of each instead of --repeat")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="where the results go")
    args = parser.parse_args()
    repeat = 3 if args.quick else args.repeat
    out = args.json or HERE / "results" / ("checks-quick.json" if args.quick else "checks.json")

    started = time.perf_counter()
    figures: dict[str, Any] = {}
    lines: list[str] = []
    dropped = 0
    with tempfile.TemporaryDirectory(prefix="rat-bench-checks-") as tmp:
        source = EXAMPLES / f"{NOTEBOOK}.ipynb"

        def without_checks(path: Path) -> None:
            nonlocal dropped
            dropped = write_without_checks(source, path)

        checked = Variant(Path(tmp) / "with", lambda path: shutil.copy(source, path))
        plain = Variant(Path(tmp) / "without", without_checks)
        try:
            for way, dagster in (("rat pipelines run", True), ("rat pipelines run --no-dagster", False)):
                a, b = alternate(checked.timed(dagster), plain.timed(dagster), repeat)
                own = [check_seconds(r.output, r.checks) for r in a.records]
                cells = statistics.median(c for c, _ in own)
                queries = statistics.median(q for _, q in own)
                with_s, without_s = statistics.median(a.wall), statistics.median(b.wall)
                with_cpu, without_cpu = statistics.median(a.cpu), statistics.median(b.cpu)
                ratio = with_s / without_s
                lines.append(report(f"tutorial run, {way}", with_s, without_s, "no checks",
                                    f"<= {TARGET_RATIO:.2f}"))  # fmt: skip
                lines.append(report("  CPU time (this process and the kernel)", with_cpu, without_cpu,
                                    "no checks", "reported"))  # fmt: skip
                print(f"  checks' own time: {cells:.3f} s in the check cells ({cells / with_s:.1%} of the "
                      f"run), of which {queries:.3f} s engine queries; "
                      f"{len(a.records[0].checks)} checks", flush=True)  # fmt: skip
                figures[way] = {
                    "with_checks_s": with_s, "without_checks_s": without_s, "ratio": ratio,
                    "ok": ratio <= TARGET_RATIO, "cpu_with_checks_s": with_cpu,
                    "cpu_without_checks_s": without_cpu, "cpu_ratio": with_cpu / without_cpu,
                    "check_cells_s": cells, "check_cells_share": cells / with_s, "check_queries_s": queries,
                    "samples_with": a.wall, "samples_without": b.wall, "cpu_with": a.cpu,
                    "cpu_without": b.cpu,
                    "checks": [{k: c.get(k) for k in ("name", "status", "elapsed_s")}
                               for c in a.records[0].checks],
                }  # fmt: skip
        finally:
            checked.close()
            plain.close()
    elapsed = time.perf_counter() - started
    ok = all(f["ok"] for f in figures.values())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "notebook": f"notebooks/pipelines/{NOTEBOOK}.ipynb", "check_cells": dropped, "repeat": repeat,
        "quick": args.quick, "ways": figures, "lines": lines, "target": f"<= {TARGET_RATIO:.2f}", "ok": ok,
        "seconds": round(elapsed, 1), "date": time.strftime("%Y-%m-%d"), "platform": platform.platform(),
    }, indent=2) + "\n")  # fmt: skip
    print(f"  {elapsed:.0f} s; figures in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}",
          flush=True)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
