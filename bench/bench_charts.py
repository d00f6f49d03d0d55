"""Charts of large results: from a 1,000,000-row result to its Vega-Lite spec, per kind, and the
``%%rat_sql chart=bar`` cell against the same cell without ``chart=``.

Run: ``python bench/bench_charts.py [--rows 1000000] [--repeat 5] [--browser]``. ``--browser`` also runs
``tests/ui/test_charts.py`` (JupyterLab and Chromium) and reads its timing of a 1,000,000-row chart cell:
from the run to the chart's output in the page, and from there to its bars on screen. Target: every
spec and the browser's drawing each within 1 s. Figures go to ``bench/results/charts.json``
(``--quick``: ``charts-quick.json``, git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
from common import median_time  # noqa: E402

TARGET_S = 1.0
KINDS: list[tuple[str, dict[str, str]]] = [
    ("bar", {"x": "region", "y": "revenue"}),
    ("bar", {"x": "region", "y": "revenue", "color": "channel"}),
    ("bar", {"x": "customer", "y": "revenue"}),  # 100,000 bars: the 100 largest
    ("line", {"x": "day", "y": "revenue", "color": "region"}),
    ("area", {"x": "day", "y": "revenue"}),
    ("scatter", {"x": "qty", "y": "revenue", "color": "region"}),
    ("histogram", {"x": "revenue", "color": "channel"}),
]
CELL = """SELECT ['north', 'south', 'east', 'west'][number % 4 + 1] AS region,
       if(number % 3 = 0, 'web', 'store') AS channel,
       round((number % 89) * (1 + (number % 4) * 0.35), 2) AS revenue
FROM numbers({rows})"""


def result(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table(
        {
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "channel": rng.choice(["web", "store"], rows),
            "customer": rng.integers(0, 100_000, rows),
            "day": pa.array(
                np.datetime64("2024-01-01") + rng.integers(0, 730, rows).astype("timedelta64[D]")
            ),
            "qty": rng.integers(1, 50, rows),
            "revenue": rng.random(rows) * 100,
        }
    )


def specs(rows: int, repeat: int) -> list[dict[str, Any]]:
    from ratatouille.charts import chart, result_sample

    table = result(rows)
    out = []
    for kind, enc in KINDS:
        seconds = median_time(lambda kind=kind, enc=enc: chart(table, kind, **enc), repeat, warmup=1)
        drawn = chart(table, kind, **enc)
        name = f"{kind} " + " ".join(f"{k}={v}" for k, v in enc.items())
        out.append(
            {
                "name": name,
                "seconds": seconds,
                "points": drawn.points,
                "spec_kb": round(len(json.dumps(drawn.spec)) / 1024, 1),
                "note": drawn.note,
            }
        )
        print(f"{name:<44} {seconds * 1000:8.1f} ms  {drawn.points:6,} points  ({drawn.note})", flush=True)
    frame = table.to_pandas()
    seconds = median_time(lambda: result_sample(frame), repeat, warmup=1)
    out.append({"name": "toggle sample of the DataFrame", "seconds": seconds, "points": 5000, "note": ""})
    print(f"{'toggle sample of the DataFrame':<44} {seconds * 1000:8.1f} ms", flush=True)
    return out


def magic(rows: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IPYTHONDIR"] = str(Path(tmp) / "ipython")
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.utils.capture import capture_output
        from traitlets.config import Config

        from ratatouille import rat

        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
        rat.connect(home=Path(tmp) / "home")
        shell.run_line_magic("load_ext", "ratatouille")
        sql = CELL.format(rows=rows)

        def charted() -> None:
            with capture_output():
                shell.run_cell_magic("rat_sql", "chart=bar x=region y=revenue color=channel", sql)

        def table() -> None:
            shell.display_formatter.format(shell.run_cell_magic("rat_sql", "", sql))

        with_chart = median_time(charted, repeat, warmup=1)
        without = median_time(table, repeat, warmup=1)
    print(
        f"{'%%rat_sql chart=bar, ' + f'{rows:,} rows':<44} {with_chart * 1000:8.1f} ms  "
        f"(the table cell: {without * 1000:.1f} ms)",
        flush=True,
    )
    return {"chart_cell_s": with_chart, "table_cell_s": without}


def browser() -> dict[str, Any]:
    timing = ROOT / "test-artifacts" / "chart-timing.json"
    timing.unlink(missing_ok=True)
    rc = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/ui/test_charts.py"], cwd=ROOT
    )
    if rc != 0 or not timing.is_file():
        print("   the browser test failed or was skipped: no browser figure", flush=True)
        return {}
    figures: dict[str, Any] = json.loads(timing.read_text())
    print(
        f"{'browser: 1,000,000-row chart cell':<44} run to output {figures['run_to_output_s']:.3f} s, "
        f"output to bars {figures['output_to_bars_s']:.3f} s",
        flush=True,
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = min(args.rows, 200_000), 3
    figures: dict[str, Any] = {
        "rows": args.rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "pyarrow": pa.__version__,
        "specs": specs(args.rows, args.repeat),
        "magic": magic(args.rows, args.repeat),
    }
    if args.browser:
        figures["browser"] = browser()
    out = HERE / "results" / ("charts-quick.json" if args.quick else "charts.json")
    out.write_text(json.dumps(figures, indent=2) + "\n")
    slow = [s["name"] for s in figures["specs"] if s["seconds"] > TARGET_S]
    if figures.get("browser") and figures["browser"]["output_to_bars_s"] > TARGET_S:
        slow.append("browser drawing")
    if slow:
        print(f"   over {TARGET_S} s: {', '.join(slow)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
