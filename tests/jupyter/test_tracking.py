"""The engine's tracked queries (what the magics run on): same results as untracked ones, rows and bytes
read, progress, and cancel from another thread that leaves every handle usable.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pyarrow as pa
import pytest

from ratatouille.engine import QueryStats
from ratatouille.engine.client import QueryTracker
from ratatouille.errors import EngineError
from ratatouille.session import Lakehouse

RICH = """
SELECT number AS n, toString(number) AS s, toDateTime('2024-01-02 03:04:05') + number AS dt,
       toDateTime64('2024-01-02 03:04:05.123456', 6, 'UTC') AS dt64, toDate('2024-01-01') AS d,
       [number, 1] AS arr, if(number = 1, NULL, number) AS maybe, toDecimal64(1.25, 2) AS dec,
       toLowCardinality('x') AS lc, {label:String} AS label, {cutoff:DateTime64(6)} AS cutoff
FROM numbers(3)
"""
PARAMS = {"label": 'it\'s \\ "quoted"\n', "cutoff": "2024-01-01 00:00:00.5"}


def tracked(session: Lakehouse, sql: str, tracker: QueryTracker, **kwargs: Any) -> pa.Table:
    with session.engine.tracking(tracker):
        return session.query_arrow(sql, **kwargs)


def test_tracked_queries_return_what_untracked_ones_do(home: Lakehouse) -> None:
    plain = home.query_arrow(RICH, parameters=PARAMS)
    stats = QueryStats()
    reports: list[tuple[int, int, int]] = []
    tracker = QueryTracker(progress=lambda *r: reports.append(r))
    result = tracked(home, RICH, tracker, parameters=PARAMS, stats=stats)
    assert result.schema == plain.schema
    assert result.equals(plain)
    assert result.column("label").to_pylist() == [PARAMS["label"]] * 3
    assert (stats.read_rows, tracker.read_rows) == (3, 3) and stats.read_bytes == tracker.read_bytes > 0
    assert reports[-1][0] == 3


def test_errors_keep_their_sql_line(home: Lakehouse) -> None:
    with pytest.raises(EngineError) as e:
        tracked(home, "SELECT 1\nFROM numbers(2)\nWHERE nope > 1", QueryTracker())
    assert e.value.line == 3 and "nope" in str(e.value)


def test_cancel_from_another_thread_and_every_handle_stays_usable(home: Lakehouse) -> None:
    tracker = QueryTracker()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            tracked(home, "SELECT sum(number) FROM numbers(1000000000000)", tracker)
        except EngineError as e:
            outcome["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    tracker.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive() and time.perf_counter() - started < 5
    assert "cancelled" in str(outcome["error"])
    assert tracker.read_rows > 0
    with pytest.raises(EngineError, match="cancelled"):  # the tracked block stays cancelled
        tracked(home, "SELECT 1", tracker)
    assert tracked(home, "SELECT 2 AS x", QueryTracker()).column("x").to_pylist() == [2]
    assert home.query_arrow("SELECT 3 AS x").column("x").to_pylist() == [3]


def test_queries_with_settings_are_tracked_through_the_driver(home: Lakehouse) -> None:
    tracker = QueryTracker()
    with home.engine.tracking(tracker):
        result = home.engine.query_arrow("SELECT 1 AS x", settings={"max_threads": 1})
    assert result.column("x").to_pylist() == [1]


def test_a_snapshot_cache_fill_is_tracked_and_a_cancel_stops_it_without_refusing_the_snapshot(
    home: Lakehouse,
) -> None:
    import pandas as pd

    from ratatouille import Rat

    Rat(home).ice_ingest_df(pd.DataFrame({"id": range(300_000)}), "bronze.fill")
    home.engine.cache.clear()
    stats = QueryStats()
    tracker = QueryTracker()
    assert tracked(home, "SELECT count() AS n FROM {bronze.fill}", tracker, stats=stats).to_pylist() == [
        {"n": 300_000}
    ]
    assert stats.cached == ["bronze.fill"]
    assert tracker.read_rows >= 300_000  # the fill's own read is counted (and reported as progress)
    home.engine.cache.clear()
    cancelled = QueryTracker()
    cancelled.cancel()  # before the fill starts: the fill is the first statement that stops
    with pytest.raises(EngineError, match="cancelled"):
        tracked(home, "SELECT count() AS n FROM {bronze.fill}", cancelled)
    info = home.engine.cache.info()
    assert info.fill_failures == 0 and info.entries == 0  # a cancel is no reason to stop caching it
    assert home.query_arrow("SELECT count() AS n FROM {bronze.fill}", stats=stats).to_pylist() == [
        {"n": 300_000}
    ]
    assert stats.cached == ["bronze.fill"]
