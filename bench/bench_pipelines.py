"""Run overhead of notebooks as pipelines.

A trivial pipeline through Dagster in-process, against papermill alone on the same notebook, in the same
process. Target: under 1.5x.

"Ours" is the whole pipeline path: discovery and static analysis, a Dagster in-process run recorded in
the lakehouse's Dagster instance (SQLite, with the ``dagster.yaml`` ratatouille writes), the run on its
own branch (kernel start-up hook, kernel environment), publishing the branch, the run record.
"papermill" executes the same notebook with ``papermill.execute_notebook`` (it writes straight to main).
Both start a fresh kernel per run; runs alternate after one warm-up each.

Two notebooks: ``x = 1`` (pure overhead), and a one-row write to a table (the branch and publish cost).

``python bench/bench_pipelines.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import report

TARGET = "< 1.5x"

NOTEBOOKS = {
    "trivial": ["x = 1"],
    "one_table": [
        "from ratatouille import rat\nimport pandas as pd",
        'rat.ice_ingest_df(pd.DataFrame({"x": [1]}), "bronze.bench", mode="overwrite")',
    ],
}


def write_notebook(path: Path, sources: list[str]) -> None:
    cells = [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": source, "execution_count": None,
         "outputs": []}
        for i, source in enumerate(sources)
    ]  # fmt: skip
    doc = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "ratatouille": {"pipeline": {}}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(doc))


def alternate(ours: Callable[[], Any], base: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median seconds of each, run alternately after one warm-up each."""
    ours()
    base()
    a, b = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        start = time.perf_counter()
        base()
        b.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import dagster as dg
    import papermill

    from ratatouille.config import Settings
    from ratatouille_jupyter.pipelines.dagster_defs import execute_in_process
    from ratatouille_jupyter.pipelines.layout import settings_env
    from ratatouille_jupyter.pipelines.serve import prepare_dagster_home
    from ratatouille_jupyter.pipelines.spec import discover

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings.for_home(root / "home")
        folder = Path(settings.pipelines_dir)
        folder.mkdir(parents=True)
        for name, sources in NOTEBOOKS.items():
            write_notebook(folder / f"{name}.ipynb", sources)
        # Dagster's instance as `rat pipelines run` uses it: <home>/dagster with ratatouille's dagster.yaml.
        instance = dg.DagsterInstance.from_config(str(prepare_dagster_home(settings)))
        os.environ.update(settings_env(settings))  # the papermill kernel opens the same lakehouse
        failures = 0
        for name in NOTEBOOKS:
            spec = discover(settings).get(name)
            out = root / f"papermill-{name}.ipynb"

            def ours(spec: Any = spec) -> None:
                ok, _ = execute_in_process(spec, settings, instance=instance, log_level="ERROR")
                assert ok

            def base(path: Path = spec.path, out: Path = out) -> None:
                papermill.execute_notebook(str(path), str(out), progress_bar=False, kernel_name="python3")

            t_ours, t_base = alternate(ours, base, args.repeat)
            line = report(f"pipeline run, {name} notebook", t_ours, t_base, "papermill", TARGET)
            failures += float(line.split("ratio")[1].split()[0]) >= 1.5
        instance.dispose()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
