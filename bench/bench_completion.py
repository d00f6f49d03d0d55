"""Completion and inspection in SQL cells on a lakehouse of 1,000 tables (embedded SQLite catalog).

Each request goes through IPython's completer (``Completer.completions``), as a kernel answers a
``complete_request``: table names after ``{``, columns of the referenced table after a bare word, and a
``{`` partial that is a notebook variable; Shift+Tab on a table name (``object_inspect_mime``). The
baseline, in the same process and run, is IPython completing a Python identifier (``pri`` -> ``print``).
The first request after a cell ran (the table listing refreshed) is reported too.

Run: ``python bench/bench_completion.py [--tables 1000] [--repeat 50]``; the figures go to
``bench/results/completion.json``. Target: every median <= 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_time, report

TARGET_S = 0.100
RESULTS = Path(__file__).resolve().parent / "results" / "completion.json"


def build(home: Path, tables: int) -> str:
    """``tables`` tables of 12 columns over 10 namespaces, and ``silver.sales`` with rows; return the
    name of the table in the middle.
    """
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

    from ratatouille.config import Settings
    from ratatouille.session import Lakehouse

    lh = Lakehouse(Settings.for_home(home))
    catalog = lh.catalog
    kinds = [LongType(), StringType(), DoubleType(), TimestamptzType()]
    schema = Schema(*[NestedField(i + 1, f"col_{i:02d}", kinds[i % 4], required=False) for i in range(12)])
    per_ns = max(1, tables // 10)
    for i in range(tables - 1):
        ns = f"ns{i // per_ns:02d}"
        if i % per_ns == 0:
            catalog.create_namespace_if_not_exists(ns)
        catalog.create_table((ns, f"table_{i:04d}"), schema)
    sales = {"id": [1, 2, 3], "region": ["north", "south", None], "revenue": [10.5, 20.0, 7.25]}
    lh.write(pa.table(sales), "silver.sales")
    lh.close()
    middle = tables // 2
    return f"ns{middle // per_ns:02d}.table_{middle:04d}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IPYTHONDIR"] = str(Path(tmp) / "ipython")
        from IPython.core.completer import provisionalcompleter
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        from ratatouille import rat

        start = time.perf_counter()
        middle = build(Path(tmp) / "home", args.tables)
        print(f"   built {args.tables} tables in {time.perf_counter() - start:.1f} s", flush=True)
        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
        rat.connect(home=Path(tmp) / "home")
        shell.run_line_magic("load_ext", "ratatouille")
        shell.user_ns.update({"min_qty": 3, "min_day": dt.date(2026, 1, 1)})
        assert len(rat.ice_all()) >= 10

        def complete(text: str, offset: int | None = None, expect: str | None = None) -> None:
            with provisionalcompleter():
                found = [
                    c.text for c in shell.Completer.completions(text, len(text) if offset is None else offset)
                ]
            if expect is not None and expect not in found:
                raise SystemExit(f"{expect!r} not offered for {text!r}: {found[:10]}")

        column_cell = f"%%rat_sql\nSELECT re FROM {{silver.sales}} JOIN {{{middle}}} USING (id)"
        cases = {
            "table names after {": lambda: complete(
                f"%%rat_sql\nSELECT * FROM {{{middle[:-2]}", None, middle + "}"
            ),
            "columns of the referenced tables": lambda: complete(
                column_cell, column_cell.index(" FROM"), "region"
            ),
            "functions and keywords": lambda: complete(
                "%%rat_sql\nSELECT toStartOfM", None, "toStartOfMonth"
            ),
            "notebook variable in {": lambda: complete(
                "%%rat_sql\nSELECT 1 WHERE x > {min_", None, "min_qty}"
            ),
        }
        baseline = median_time(lambda: complete("x = 1\npri", None, "print"), args.repeat, warmup=5)
        figures: dict[str, float] = {"baseline: IPython, a Python identifier": baseline}
        over = False
        for name, fn in cases.items():
            ours = median_time(fn, args.repeat, warmup=3)
            figures[name] = ours
            report(f"completion: {name} (median)", ours, baseline, "IPython pri", "<= 100 ms", unit="ms")
            over |= ours > TARGET_S

        def inspect() -> None:
            bundle = shell.object_inspect_mime("silver.sales")
            assert "region" in bundle["text/plain"]

        ours = median_time(inspect, args.repeat, warmup=3)
        figures["inspect silver.sales"] = ours
        report("inspect: a table name (median)", ours, baseline, "IPython pri", "<= 100 ms", unit="ms")
        over |= ours > TARGET_S

        # After a cell ran, the listing of 1,000 tables is read again on the next request.
        samples = []
        for _ in range(10):
            shell.events.trigger("post_run_cell", None)
            start = time.perf_counter()
            cases["table names after {"]()
            samples.append(time.perf_counter() - start)
        samples.sort()
        figures["table names, first request after a cell ran"] = samples[len(samples) // 2]
        report(
            "completion: after a cell ran (median of 10)",
            samples[5],
            baseline,
            "IPython pri",
            "<= 100 ms",
            unit="ms",
        )
        over |= samples[5] > TARGET_S

        # A cell committed to a referenced table: its schema is read again (its metadata location changed).
        import pyarrow as pa

        samples = []
        for i in range(10):
            rat.session.write(pa.table({"id": [i], "region": ["x"], "revenue": [1.0]}), "silver.sales")
            shell.events.trigger("post_run_cell", None)  # the cell that wrote ended
            start = time.perf_counter()
            cases["columns of the referenced tables"]()
            samples.append(time.perf_counter() - start)
        samples.sort()
        figures["columns, first request after a commit"] = samples[len(samples) // 2]
        report(
            "completion: after a commit (median of 10)",
            samples[5],
            baseline,
            "IPython pri",
            "<= 100 ms",
            unit="ms",
        )
        over |= samples[5] > TARGET_S
        rat.session.close()

    if not args.no_save:
        import pyiceberg

        import ratatouille

        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "versions": {"ratatouille": ratatouille.__version__, "pyiceberg": pyiceberg.__version__},
            "args": vars(args),
            "median_ms": {k: round(v * 1000, 3) for k, v in figures.items()},
        }
        RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    if over:
        print("   over target: a median is above 100 ms", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
