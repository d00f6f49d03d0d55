"""Shared pieces of the benchmarks: timing and the report line format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return (seconds, result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_time(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> float:
    """Median seconds of ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(name: str, ours: float, baseline: float, baseline_name: str, target: str, unit: str = "s") -> str:
    """One result line: our time, the baseline's, the ratio and the target."""
    ratio = ours / baseline if baseline else float("inf")
    scale = 1000.0 if unit == "ms" else 1.0
    line = (
        f"{name:<44} ours {ours * scale:9.3f} {unit}   {baseline_name} {baseline * scale:9.3f} {unit}   "
        f"ratio {ratio:6.3f}   target {target}"
    )
    print(line, flush=True)
    return line
