"""Concurrent writers on mixed branches of the same tables: processes x writes over branches.

``run_writers`` starts the processes (``python -m tests.faults.writers WORKER WRITES BRANCH``), each
alternating an append to ``conc.events`` and a merge into ``conc.kv`` on its branch (``main`` or a dev
branch), then counts per branch: rows lost, rows duplicated, rows that leaked to another branch, and the
processes that failed. Used by the test suite (small) and by ``bench/bench_reliability.py`` (8 x 25 x 4).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from ratatouille.config import Settings
from ratatouille.session import Lakehouse

EVENTS, KV = "conc.events", "conc.kv"
ROOT = Path(__file__).resolve().parents[2]


def branch_names(count: int) -> list[str]:
    """``main`` and ``count - 1`` dev branches."""
    return ["main", *[f"dev{i}" for i in range(1, count)]]


def worker(n: int, writes: int, branch: str) -> None:
    """One process: ``writes`` writes on ``branch`` (appends and merges, alternating)."""
    lh = Lakehouse(Settings.from_env())
    lh.use_branch(None if branch == "main" else branch)
    failed = 0
    for i in range(writes):
        try:
            if i % 2 == 0:
                lh.write(pa.table({"worker": [n] * 10, "seq": [i] * 10, "n": list(range(10))}), EVENTS)
            else:
                lh.write(pa.table({"k": [n * 1000 + i], "v": [i]}), KV, mode="merge", merge_keys=["k"])
        except Exception as e:  # counted, and the write left out of the model: the others go on
            failed += 1
            print(f"write {i} failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        else:
            print(i, flush=True)  # the writes that reported success: the rows that must be there
    lh.close()
    sys.exit(1 if failed else 0)


def run_writers(
    settings: Settings, processes: int, writes: int, branches: int, env: dict[str, str]
) -> dict[str, Any]:
    """Start the writers, wait for them, and check every branch; returns the figures."""
    from ratatouille.branches import start

    lh = Lakehouse(settings)
    lh.write(pa.table({"worker": [-1], "seq": [-1], "n": [-1]}), EVENTS)
    lh.write(pa.table({"k": [-1], "v": [-1]}), KV)
    names = branch_names(branches)
    for name in names[1:]:
        start(lh, name, [EVENTS, KV])
    lh.use_branch(None)
    plan = {w: names[w % len(names)] for w in range(processes)}
    began = time.perf_counter()
    procs = {
        w: subprocess.Popen(
            [sys.executable, "-m", "tests.faults.writers", str(w), str(writes), branch],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w, branch in plan.items()
    }
    failures = []
    done: dict[int, set[int]] = {}
    for w, p in procs.items():
        out, err = p.communicate(timeout=1800)
        done[w] = {int(line) for line in out.split() if line.strip().isdigit()}
        lines = [f"worker {w} on {plan[w]}: {line}" for line in err.splitlines() if " failed: " in line]
        if p.returncode != 0 and not lines:  # the process itself failed
            lines = [
                f"worker {w} on {plan[w]}: {err.strip().splitlines()[-1] if err.strip() else p.returncode}"
            ]
        failures += lines
    seconds = time.perf_counter() - began
    lost = duplicated = leaked = 0
    for name in names:
        lh.use_branch(None if name == "main" else name)
        mine = sorted(w for w, b in plan.items() if b == name)
        events = lh.query_arrow(
            f"SELECT worker, seq, count() AS c FROM {{{EVENTS}}} WHERE worker >= 0 GROUP BY worker, seq"
        ).to_pylist()
        got = {(r["worker"], r["seq"]): r["c"] for r in events}
        want = {(w, i): 10 for w in mine for i in done[w] if i % 2 == 0}
        lost += sum(c - got.get(k, 0) for k, c in want.items() if got.get(k, 0) < c)
        duplicated += sum(c - want.get(k, 0) for k, c in got.items() if k in want and c > want[k])
        leaked += sum(c for k, c in got.items() if k not in want)
        kv = lh.query_arrow(f"SELECT k, count() AS c FROM {{{KV}}} WHERE k >= 0 GROUP BY k").to_pylist()
        keys = {r["k"]: r["c"] for r in kv}
        want_keys = {w * 1000 + i for w in mine for i in done[w] if i % 2 == 1}
        lost += len(want_keys - set(keys))
        duplicated += sum(c - 1 for k, c in keys.items() if c > 1)
        leaked += len(set(keys) - want_keys)
    lh.close()
    return {
        "processes": processes,
        "writes_per_process": writes,
        "branches": branches,
        "commits": processes * writes,
        "errors": len(failures),
        "rows_lost": lost,
        "rows_duplicated": duplicated,
        "rows_leaked_across_branches": leaked,
        "seconds": round(seconds, 1),
        "failures": failures,
    }


if __name__ == "__main__":
    worker(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
