"""Notebook round trip: ``%%rat_sql SELECT 1`` (run, then rendered as a notebook would) against
``rat.query("SELECT 1")`` alone, both warm, in the same process and run.

Run: ``python bench/bench_magics.py [--repeat 200]``. Target: the magic's median under 30 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_time, report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IPYTHONDIR"] = str(Path(tmp) / "ipython")
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        from ratatouille import rat

        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
        rat.connect(home=Path(tmp) / "home")
        shell.run_line_magic("load_ext", "ratatouille")

        def magic() -> None:
            result = shell.run_cell_magic("rat_sql", "", "SELECT 1")
            shell.display_formatter.format(result)  # HTML (itables) and text, as the front end gets them

        def sdk() -> None:
            rat.query("SELECT 1")

        ours = median_time(magic, args.repeat, warmup=5)
        baseline = median_time(sdk, args.repeat, warmup=5)
        report("%%rat_sql SELECT 1, rendered (median)", ours, baseline, "rat.query", "< 30 ms", unit="ms")
        if ours >= 0.030:
            print(f"   over target: {ours * 1000:.1f} ms", flush=True)
            raise SystemExit(1)


if __name__ == "__main__":
    main()
