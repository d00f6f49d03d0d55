"""Tables that grow and age: how merge, append, delete, pruning, compaction and first queries scale.

Every figure is a ratio against a baseline measured in the same run (a smaller table, a younger table,
pyiceberg's own call, an unpruned query, a table written in one piece), never an absolute time.

Parts (``--parts``, comma-separated; all by default):

- ``merge``: merge 1,000 keys (500 updates of the most recent ids, 500 new ids) into a 2M-row and a
  20M-row table; time(20M) / time(2M), target <= 1.5.
- ``append``: 100-row appends on a young table and on the table aged to 3,000 snapshots (target <= 2x); ours
  (``session.write(mode="append")``, what ``rat.ice_ingest_df`` does) vs pyiceberg's ``Table.append`` on
  the 3,000-snapshot table, interleaved (target <= 1.3x).
- ``pruning``: a 30-day table partitioned by ``day(event_ts)``; a one-day query plans <= 1/20 of the
  files and returns what the unpruned query returns.
- ``compaction``: 3,000 small files, ``rat.ice_compact``; files after <= 1 per target size; the first
  query of the compacted snapshot vs the same rows written in one piece (target <= 1.5x).
- ``size`` and ``history`` (``sweep`` selects both): merge, append, delete and first-query cost against
  table size (1M, 4M, 16M rows) and history length (10, 300, 3,000 snapshots). The history table is the
  one the ``append`` part ages: its 3,000 snapshots are made once, in one history commit (see
  :func:`add_history`; ``--history-mode appends`` makes real appends, hours at 3,000).

The sweep's figures go to ``bench/results/tables.json`` and ``docs/img/scaling.png`` (``--quick``:
``bench/results/tables-quick.json`` and ``bench/results/scaling-quick.png``, git-ignored).

``python bench/bench_tables.py [--quick] [--parts merge,append,pruning,compaction,size,history]``
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import platform
import resource
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report, timed

from ratatouille.catalog import drop_table
from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille.sql.pruning import pruning_disabled

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PARTS = ("merge", "append", "pruning", "compaction", "size", "history")
OPERATIONS = ("merge", "append", "delete", "query")
CATEGORIES = ["books", "games", "garden", "grocery", "home", "music", "sports", "toys"]
EPOCH = dt.datetime(2026, 1, 1)
DAYS = 30
MERGE_KEYS = 1_000
APPEND_ROWS = 100
DELETE_KEYS = 100
TARGET_FILE_SIZE = "write.target-file-size-bytes"
INGEST_DF = "ingest_df:append"  # what rat.ice_ingest_df(df, table) records: the same call, minus pandas

FULL = {
    "merge_rows": [2_000_000, 20_000_000],
    "sizes": [1_000_000, 4_000_000, 16_000_000],
    "history": [10, 300, 3_000],
    "history_rows": 1_000_000,
    "pruning_rows": 1_500_000,
    "compact_files": 3_000,
    "compact_rows": 1_000_000,
}
QUICK = {
    "merge_rows": [100_000, 1_000_000],
    "sizes": [100_000, 400_000, 1_600_000],
    "history": [10, 100, 300],
    "history_rows": 100_000,
    "pruning_rows": 150_000,
    "compact_files": 300,
    "compact_rows": 100_000,
}


# -- data ------------------------------------------------------------------------------------------------


def make_rows(start: int, n: int, seed: int = 1, span_days: float | None = None) -> pa.Table:
    """``n`` rows with ids ``start..start+n-1`` (see :func:`rows_for`).

    Args:
        start: First id.
        n: Rows.
        seed: Random seed of the other columns.
        span_days: Spread the rows evenly over this many days from :data:`EPOCH` (pruning table);
            otherwise one second per id.
    """
    return rows_for(np.arange(start, start + n, dtype=np.int64), seed + start, span_days)


def rows_for(ids: np.ndarray[Any, np.dtype[np.int64]], seed: int, span_days: float | None = None) -> pa.Table:
    """Rows with these ids; ``event_ts`` grows with the id, as in an event log."""
    n = len(ids)
    rng = np.random.default_rng(seed)
    epoch_us = int((EPOCH - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    if span_days is None:
        offsets = ids * 1_000_000
    else:
        offsets = (np.arange(n, dtype=np.int64) * int(span_days * 86_400 * 1_000_000)) // max(n, 1)
    categories = pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, len(CATEGORIES), n, dtype=np.int32)), pa.array(CATEGORIES)
    ).dictionary_decode()
    return pa.table(
        {
            "id": ids,
            "event_ts": pa.array(epoch_us + offsets, pa.timestamp("us")),
            "user_id": rng.integers(0, 100_000, n, dtype=np.int64),
            "amount": np.round(rng.random(n) * 500, 2),
            "category": categories,
        }
    )


@dataclass
class Keys:
    """The ids of one table, so that updates and deletes hit recent rows, as real ones do.

    Attributes:
        next_id: One past the highest id ever written (ids are never reused).
        deleted: Ids deleted by the benchmark (they are not "existing rows" any more).
    """

    next_id: int
    deleted: set[int] = field(default_factory=set)

    def newest(self, n: int) -> list[int]:
        """The ``n`` highest ids still in the table, ascending."""
        out: list[int] = []
        candidate = self.next_id - 1
        while len(out) < n and candidate >= 0:
            if candidate not in self.deleted:
                out.append(candidate)
            candidate -= 1
        return out[::-1]

    def merge_batch(self, seed: int) -> pa.Table:
        """500 updates of the newest existing ids and 500 new ids."""
        half = MERGE_KEYS // 2
        ids = np.array(self.newest(half) + list(range(self.next_id, self.next_id + half)), dtype=np.int64)
        self.next_id += half
        return rows_for(ids, seed + 7)

    def append_batch(self, rows: int = APPEND_ROWS) -> pa.Table:
        """New rows after the newest id."""
        batch = make_rows(self.next_id, rows, seed=3)
        self.next_id += rows
        return batch

    def delete_predicate(self) -> str:
        """``id IN (...)`` of the 100 newest existing ids (they count as deleted from now on)."""
        ids = self.newest(DELETE_KEYS)
        self.deleted.update(ids)
        return f"id IN ({', '.join(map(str, ids))})"


# -- results ---------------------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything the run measured, as saved to JSON."""

    ratios: list[dict[str, Any]] = field(default_factory=list)
    sweep: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    #: The part running now: every line is filed under it, so a later run of some parts keeps the rest.
    part: str = "setup"
    ran: list[str] = field(default_factory=list)

    def ratio(
        self, name: str, ours: float, baseline: float, baseline_name: str, limit: float, unit: str = "s"
    ) -> None:
        """Print and record one timed ratio line with its target (``ratio <= limit``)."""
        report(name, ours, baseline, baseline_name, f"ratio <= {limit:g}", unit=unit)
        self._record(name, ours, baseline, baseline_name, limit)

    def count_ratio(self, name: str, ours: int, baseline: int, baseline_name: str, limit: float) -> None:
        """Print and record a ratio of counts (files), in the same line format."""
        value = ours / baseline if baseline else float("inf")
        print(
            f"{name:<44} ours {ours:9d} files {baseline_name} {baseline:9d} files   ratio {value:6.3f}   "
            f"target ratio <= {limit:.3g}",
            flush=True,
        )
        self._record(name, ours, baseline, baseline_name, limit)

    def check(self, name: str, ok: bool, detail: str) -> None:
        """Print and record a yes/no check."""
        print(f"{name:<44} {'ok' if ok else 'FAILED'}: {detail}", flush=True)
        self.ratios.append({"part": self.part, "name": name, "ok": ok, "detail": detail})

    def skip(self, what: str, why: str) -> None:
        """Print a ``skipped`` line and go on."""
        line = f"skipped: {what} ({why})"
        print(line, flush=True)
        self.skipped.append({"part": self.part, "line": line})

    def note(self, text: str) -> None:
        """Record something odd seen during the run (printed in the summary)."""
        self.notes.append({"part": self.part, "line": text})

    def _record(self, name: str, ours: float, baseline: float, baseline_name: str, limit: float) -> None:
        value = ours / baseline if baseline else float("inf")
        self.ratios.append(
            {"part": self.part, "name": name, "ours": ours, "baseline": baseline,
             "baseline_name": baseline_name, "ratio": value, "target": f"<= {limit:g}", "ok": value <= limit}
        )  # fmt: skip


def planned_files(lh: Lakehouse, sql: str) -> tuple[int, int]:
    """(files the query plans to read, files of the snapshots it reads), from the SQL expansion."""
    reads = lh.expand(sql).reads
    return sum(r.planned_files for r in reads), sum(r.total_files for r in reads)


# -- helpers ---------------------------------------------------------------------------------------------


def build_table(lh: Lakehouse, name: str, rows: int, batch_rows: int) -> Keys:
    """Write ``rows`` rows through the SDK in batches (one file per batch; bounded memory)."""
    print(f"  building {name}: {rows:,} rows in batches of {min(rows, batch_rows):,}", flush=True)
    for start in range(0, rows, batch_rows):
        lh.write(make_rows(start, min(batch_rows, rows - start)), name, mode="append")
    return Keys(next_id=rows)


def touch(lh: Lakehouse, name: str) -> None:
    """Commit a snapshot with no data change, so that the next query plans a snapshot never seen.

    The engine's file-list cache is keyed by snapshot: this is how a "first query" stays a first query
    without reaching into the cache.
    """
    table = lh.catalog.load_table(name)
    table.append(table.schema().as_arrow().empty_table())


def first_query(lh: Lakehouse, sql: str) -> float:
    """Seconds of ``sql`` on snapshots it has not planned before (the caller wrote them)."""
    seconds, _ = timed(lambda: lh.query_arrow(sql))
    return seconds


def snapshot_count(lh: Lakehouse, name: str) -> int:
    """Snapshots in a table's metadata."""
    return len(lh.catalog.load_table(name).metadata.snapshots)


def data_files(lh: Lakehouse, name: str) -> list[Any]:
    """The data files of the table's current snapshot."""
    return [task.file for task in lh.catalog.load_table(name).scan().plan_files()]


def drop(lh: Lakehouse, *names: str) -> None:
    """Drop tables with their files (disk stays bounded through the run)."""
    for name in names:
        with contextlib.suppress(Exception):
            drop_table(lh.catalog, name, purge=True)


def median(samples: list[float]) -> float:
    """Median; NaN for no sample (a skipped operation)."""
    return statistics.median(samples) if samples else math.nan


def peak_rss_mb() -> float:
    """Peak resident memory of this process (chDB runs in it) in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- 1. merge against table size -------------------------------------------------------------------------


def part_merge(lh: Lakehouse, res: Results, sizes: list[int], batch_rows: int, repeat: int) -> None:
    """Merge 1,000 keys into a small and a 10x larger table, interleaved; median of ``repeat``."""
    small_rows, large_rows = sizes
    small, large = "bench.merge_small", "bench.merge_large"
    keys = {small: build_table(lh, small, small_rows, batch_rows),
            large: build_table(lh, large, large_rows, batch_rows)}  # fmt: skip
    samples: dict[str, list[float]] = {small: [], large: []}
    for rep in range(repeat):
        for name in (small, large):  # interleaved: load on the shared machine hits both alike
            batch = keys[name].merge_batch(seed=rep)
            seconds, result = timed(lambda b=batch, n=name: lh.write(b, n, mode="merge", merge_keys=["id"]))
            _check_merge(res, name, result)
            samples[name].append(seconds)
    res.ratio(f"merge {MERGE_KEYS:,} keys: {_short(large_rows)} vs {_short(small_rows)} rows",
              median(samples[large]), median(samples[small]), _short(small_rows), 1.5)  # fmt: skip
    drop(lh, small, large)


def _check_merge(res: Results, name: str, result: Any) -> None:
    half = MERGE_KEYS // 2
    if (result.updated, result.inserted) != (half, half):
        res.note(
            f"merge into {name}: updated {result.updated}, inserted {result.inserted} (expected {half} each)"
        )


# -- 2 and the history sweep: one table aged once --------------------------------------------------------


def part_history(
    lh: Lakehouse, r: Rat, res: Results, rows: int, checkpoints: list[int], do_append: bool, do_sweep: bool,
    repeat: int, real: bool,
) -> None:  # fmt: skip
    """Age one table to the largest checkpoint; measure the sweep at each checkpoint, part 2 at the end.

    The table's first 10 appends go through the SDK (part 2's young-table figure); then its history is
    grown to each checkpoint by :func:`add_history` (or, with ``real``, by 100-row pyiceberg appends,
    which also add a small file per snapshot and take hours at 3,000).
    """
    name = "bench.history"
    print(f"  building {name}: {rows:,} rows, 10 appends, then aged to {checkpoints[-1]:,} snapshots",
          flush=True)  # fmt: skip
    lh.write(make_rows(0, rows), name, mode="append")
    keys = Keys(next_id=rows)
    young = []
    for _ in range(10):  # the first 10 appends of the table's life
        batch = keys.append_batch()
        young.append(timed(lambda b=batch: lh.write(b, name, mode="append", operation=INGEST_DF))[0])
    points = checkpoints if do_sweep else checkpoints[-1:]
    sweep: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    measured_at: list[int] = []
    for point in points:
        grow(lh, name, keys, point, real)
        count = snapshot_count(lh, name)
        if point == checkpoints[-1] and do_append:
            append_against_pyiceberg(lh, res, name, keys, young, count)
        if do_sweep:
            print(f"  history: measuring at {count:,} snapshots", flush=True)
            measured_at.append(count)
            for op, seconds in measure_ops(lh, r, res, name, keys, repeat).items():
                sweep[op].append(seconds)
    if do_sweep:
        res.sweep["history"] = {"x": points, "snapshots_at_measure": measured_at, "rows": rows, **sweep}
    drop(lh, name)


def grow(lh: Lakehouse, name: str, keys: Keys, snapshots: int, real: bool) -> None:
    """Age the table until it has ``snapshots`` snapshots (see :func:`add_history`)."""
    start = time.perf_counter()
    table = lh.catalog.load_table(name)
    missing = snapshots - len(table.metadata.snapshots)
    if missing <= 0:
        return
    if real:
        arrow_schema = table.schema().as_arrow()
        for _ in range(missing):
            table.append(keys.append_batch().cast(arrow_schema))
    else:
        add_history(lh, name, missing)
    how = "100-row pyiceberg appends" if real else "history commit"
    print(
        f"  grew {name} by {missing:,} snapshots ({how}) in {time.perf_counter() - start:.1f} s", flush=True
    )


def add_history(lh: Lakehouse, name: str, count: int) -> None:
    """Add ``count`` snapshots to main in ONE commit, each a child of the previous one.

    Why not real appends: each pyiceberg append costs O(snapshots) (0.4 s at 200 snapshots here, growing
    linearly), so 3,000 of them take about two hours. These snapshots are proper metadata entries (ids,
    parents, sequence numbers, timestamps, snapshot log), so every O(history) cost of the metadata is
    paid as for real ones; each reuses the head's manifest list, so the table's data and files do not
    change: the sweep measures history length alone (file count is the compaction part's subject).
    ``--history-mode appends`` makes real appends instead.
    """
    import random

    from pyiceberg.table.refs import MAIN_BRANCH, SnapshotRefType
    from pyiceberg.table.snapshots import Summary
    from pyiceberg.table.update import AddSnapshotUpdate, AssertRefSnapshotId, SetSnapshotRefUpdate

    table = lh.catalog.load_table(name)
    meta = table.metadata
    head = meta.current_snapshot()
    assert head is not None and head.summary is not None
    now_ms = int(time.time() * 1000)
    taken = {s.snapshot_id for s in meta.snapshots}
    summary = Summary(head.summary.operation, **{**head.summary.additional_properties, "bench.history": "1"})
    updates: list[Any] = []
    parent = head.snapshot_id
    for i in range(count):
        snapshot_id = random.getrandbits(62)
        while snapshot_id in taken:
            snapshot_id = random.getrandbits(62)
        taken.add(snapshot_id)
        snapshot = head.model_copy(
            update={
                "snapshot_id": snapshot_id,
                "parent_snapshot_id": parent,
                "sequence_number": meta.last_sequence_number + i + 1,
                # Between the head's commit and now, in order, so that later real commits come after.
                "timestamp_ms": head.timestamp_ms + (now_ms - head.timestamp_ms) * (i + 1) // (count + 1),
                "summary": summary,
            }
        )
        updates.append(AddSnapshotUpdate(snapshot=snapshot))
        updates.append(SetSnapshotRefUpdate(ref_name=MAIN_BRANCH, type=SnapshotRefType.BRANCH,
                                            snapshot_id=snapshot_id))  # fmt: skip
        parent = snapshot_id
    requirement = AssertRefSnapshotId(ref=MAIN_BRANCH, snapshot_id=head.snapshot_id)
    lh.catalog.commit_table(table, (requirement,), tuple(updates))


def append_against_pyiceberg(
    lh: Lakehouse, res: Results, name: str, keys: Keys, young: list[float], count: int
) -> None:
    """Part 2 on the aged table: 10 of our appends interleaved with 10 of pyiceberg's."""
    ours, theirs = [], []
    for _ in range(10):
        batch = keys.append_batch()
        ours.append(timed(lambda b=batch: lh.write(b, name, mode="append", operation=INGEST_DF))[0])
        arrow = keys.append_batch()

        def pyiceberg_append(a: pa.Table = arrow) -> None:
            # Loading the table is part of the baseline: a writer must see the current head, as ours does.
            table = lh.catalog.load_table(name)
            table.append(a.cast(table.schema().as_arrow()))

        theirs.append(timed(pyiceberg_append)[0])
    res.ratio(f"append {APPEND_ROWS} rows after {count:,} snapshots vs first 10", median(ours), median(young),
              "young", 2.0, unit="ms")  # fmt: skip
    res.ratio(f"append {APPEND_ROWS} rows, {count:,} snapshots: ours vs pyiceberg", median(ours),
              median(theirs), "pyiceberg", 1.3, unit="ms")  # fmt: skip


# -- the size sweep --------------------------------------------------------------------------------------


def part_size(lh: Lakehouse, r: Rat, res: Results, sizes: list[int], batch_rows: int, repeat: int) -> None:
    """Each operation on tables of growing size (built in batches, dropped after use)."""
    sweep: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    for rows in sizes:
        name = f"bench.size_{rows}"
        keys = build_table(lh, name, rows, batch_rows)
        print(f"  size: measuring at {rows:,} rows", flush=True)
        for op, seconds in measure_ops(lh, r, res, name, keys, repeat).items():
            sweep[op].append(seconds)
        drop(lh, name)
    res.sweep["size"] = {"x": sizes, **sweep}
    if len(sizes) > 1:
        for op in OPERATIONS:
            first, last = sweep[op][0], sweep[op][-1]
            if not (math.isnan(first) or math.isnan(last)):
                print(f"  {op:<8} {sizes[-1]:>12,} vs {sizes[0]:,} rows: ratio {last / first:6.2f} "
                      f"({sizes[-1] / sizes[0]:g}x the rows)", flush=True)  # fmt: skip


def measure_ops(lh: Lakehouse, r: Rat, res: Results, name: str, keys: Keys, repeat: int) -> dict[str, float]:
    """Median seconds of append (100 rows), first query, merge (1,000 keys), delete (100 recent keys).

    Merge comes after the queries because today it rewrites the files it touches; deletes come last
    and take the newest ids still present.
    """
    out: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    sql = f"SELECT count(), sum(amount) FROM {{{name}}}"
    for _ in range(3 * repeat):  # a short operation: more samples for a steady median
        batch = keys.append_batch()
        out["append"].append(timed(lambda b=batch: lh.write(b, name, mode="append"))[0])
    for _ in range(repeat):
        touch(lh, name)  # a snapshot never planned: the query plans it from the manifests
        out["query"].append(first_query(lh, sql))
    for rep in range(repeat):
        batch = keys.merge_batch(seed=100 + rep)
        seconds, result = timed(lambda b=batch: lh.write(b, name, mode="merge", merge_keys=["id"]))
        _check_merge(res, name, result)
        out["merge"].append(seconds)
    for _ in range(repeat):
        predicate = keys.delete_predicate()
        out["delete"].append(timed(lambda p=predicate: r.ice_delete(name, p))[0])
    return {op: median(samples) for op, samples in out.items()}


# -- 3. pruning ------------------------------------------------------------------------------------------


def part_pruning(lh: Lakehouse, res: Results, rows: int, where: str | None) -> None:
    """A 30-day table partitioned by day; a one-day query's planned files and its result.

    ``where`` replaces the default one-day filter (a half-open ``event_ts`` range on day 16).
    """
    name = "bench.days"
    data = make_rows(0, rows, span_days=DAYS)
    lh.write(data, name, mode="append", partition_by=["day(event_ts)"])
    print(f"  {name}: {rows:,} rows over {DAYS} days, partitioned by day(event_ts)", flush=True)
    day = EPOCH + dt.timedelta(days=DAYS // 2)
    where = where or (f"event_ts >= '{day:%Y-%m-%d %H:%M:%S}' "
                      f"AND event_ts < '{day + dt.timedelta(days=1):%Y-%m-%d %H:%M:%S}'")  # fmt: skip
    sql = f"SELECT * FROM {{{name}}} WHERE {where} ORDER BY id"
    planned, total = planned_files(lh, sql)
    res.count_ratio("pruning: files planned for one day of 30", planned, total, "all", 1 / 20)
    pruned_s, pruned = timed(lambda: lh.query_arrow(sql))
    with pruning_disabled():
        full_s, full = timed(lambda: lh.query_arrow(sql))
    res.check("pruning: one day, same rows as unpruned", pruned.equals(full),
              f"{pruned.num_rows:,} rows pruned vs {full.num_rows:,} unpruned")  # fmt: skip
    report("pruning: one-day query, pruned vs unpruned", pruned_s, full_s, "unpruned", "reported")
    drop(lh, name)


# -- 4. compaction ---------------------------------------------------------------------------------------


def part_compaction(
    lh: Lakehouse, r: Rat, res: Results, rows: int, files: int, target_mb: int, repeat: int
) -> None:
    """Many small files, compacted; file count and first queries against the same rows in one piece.

    Each first query is a median of ``repeat``: an empty commit before each later sample gives both
    tables a snapshot never planned, with the same files and manifests.
    """
    small, whole = "bench.small_files", "bench.one_piece"
    data = make_rows(0, rows)
    write_small_files(lh, small, data, files)
    made = len(data_files(lh, small))
    print(f"  {small}: {rows:,} rows in {made:,} files", flush=True)
    count_sql = "SELECT count() FROM {{{}}}"
    group_sql = (
        "SELECT category, sum(amount) AS total, count() AS n FROM {{{}}} GROUP BY category ORDER BY category"
    )
    seconds, _ = timed(lambda: r.ice_compact(small, target_file_mb=target_mb))
    after = data_files(lh, small)
    total_bytes = sum(f.file_size_in_bytes for f in after)
    bound = max(1, math.ceil(total_bytes / (target_mb * 1024 * 1024)))
    print(f"  compaction of {made:,} files took {seconds:.2f} s", flush=True)
    res.check(f"compaction: files after (target {target_mb} MB)", len(after) <= bound,
              f"{made:,} -> {len(after):,} files, {total_bytes / 1e6:.1f} MB; bound {bound}")  # fmt: skip
    # Written after compaction so that both tables' first queries meet equally warm disks and engine.
    lh.write(data, whole, mode="append")
    for label, sql in (("count()", count_sql), ("GROUP BY", group_sql)):
        ours, base = [], []
        for rep in range(repeat):
            if label != "count()" or rep > 0:  # the very first count() reads the compaction's own snapshot
                touch(lh, small)
                touch(lh, whole)
            ours.append(first_query(lh, sql.format(small)))
            base.append(first_query(lh, sql.format(whole)))
        res.ratio(
            f"first {label} after compaction vs one piece", median(ours), median(base), "one piece", 1.5
        )
    same = lh.query_arrow(group_sql.format(small)).column("n").equals(
        lh.query_arrow(group_sql.format(whole)).column("n"))  # fmt: skip
    res.check("compaction: same rows per category", same, "counts per category compared")
    drop(lh, small, whole)


def write_small_files(lh: Lakehouse, name: str, data: pa.Table, files: int) -> None:
    """One SDK write cut into ``files`` files by a tiny ``write.target-file-size-bytes`` (then removed).

    Much faster than thousands of appends; the property is removed after the write so that compaction
    writes files of its own target size.
    """
    lh.write(data.slice(0, 1), name, mode="append")  # creates the table (and its first small file)
    table = lh.catalog.load_table(name)
    with table.transaction() as tx:
        tx.set_properties({TARGET_FILE_SIZE: str(max(1, data.nbytes // files))})
    lh.write(data.slice(1), name, mode="append")
    table = lh.catalog.load_table(name)
    with table.transaction() as tx:
        tx.remove_properties(TARGET_FILE_SIZE)


# -- output ----------------------------------------------------------------------------------------------


def summary(res: Results) -> None:
    """The table printed at the end: every target with its verdict, then what was skipped."""
    print("\nsummary", flush=True)
    print(f"  {'measurement':<58} {'ratio':>8}  {'target':<8} result")
    for row in res.ratios:
        value = f"{row['ratio']:8.3f}" if "ratio" in row else f"{'':>8}"
        verdict = "ok" if row["ok"] else "MISSED"
        print(f"  {row['name']:<58} {value}  {row.get('target', ''):<8} {verdict}")
    for skipped in res.skipped:
        print(f"  {skipped['line']}")
    for note in res.notes:
        print(f"  note: {note['line']}")


def save(res: Results, args: argparse.Namespace, json_path: Path, png_path: Path) -> None:
    """Write the figures as JSON and, when there is a sweep, the scaling plot.

    Figures are filed by part: a run of some parts replaces those parts in an existing file of the same
    kind (quick or full) and keeps the others, so one part can be re-run without losing the rest.
    """
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    parts: dict[str, Any] = {}
    sweep: dict[str, Any] = {}
    if json_path.exists():
        with contextlib.suppress(ValueError, OSError):
            old = json.loads(json_path.read_text())
            if old.get("quick") == args.quick:
                parts, sweep = old.get("parts", {}), old.get("sweep", {})
    for part in res.ran:
        parts[part] = {
            "when": now,
            "ratios": [r for r in res.ratios if r["part"] == part],
            "skipped": [x["line"] for x in res.skipped if x["part"] == part],
            "notes": [x["line"] for x in res.notes if x["part"] == part],
        }
    sweep.update({k: _json_safe(v) for k, v in res.sweep.items()})
    doc = {
        "when": now,
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "peak_rss_mb": round(peak_rss_mb()),
        },
        "versions": _versions(),
        "args": {k: v for k, v in vars(args).items() if k not in ("json", "png")},
        "parts": parts,
        "sweep": sweep,
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nfigures: {_shown(json_path)}", flush=True)
    if sweep:
        plot(sweep, png_path)


def plot(sweep: dict[str, dict[str, Any]], path: Path) -> None:
    """Two panels, cost vs size and vs history, log-log, one line per operation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        print("skipped: plot (matplotlib not installed: pip install -e '.[bench]')", flush=True)
        return
    panels = [("size", "table size (rows)"), ("history", "history length (snapshots)")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    markers = {"merge": "o", "append": "s", "delete": "^", "query": "D"}
    colors = {"merge": "C0", "append": "C1", "delete": "C2", "query": "C3"}  # the same in both panels
    labels = {"merge": f"merge {MERGE_KEYS:,} keys", "append": f"append {APPEND_ROWS} rows",
              "delete": f"delete {DELETE_KEYS} keys", "query": "first query"}  # fmt: skip
    for ax, (key, xlabel) in zip(axes, panels, strict=True):
        data = sweep.get(key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        # Plain seconds at 1-2-5 steps: a log axis with only powers of ten labelled is hard to read.
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda y, _pos: f"{y:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds (median)")
        ax.grid(True, which="both", alpha=0.3)
        if not data:
            ax.set_title(f"vs {key}: not measured")
            continue
        ax.set_title(f"vs {key}" + (f" ({data['rows']:,}-row table)" if "rows" in data else ""))
        for op in OPERATIONS:
            points = [
                (x, y)
                for x, y in zip(data["x"], data[op], strict=True)
                if y is not None and not math.isnan(y)
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker=markers[op], color=colors[op], label=labels[op])
            else:
                ax.plot([], [], " ", label=f"{labels[op]}: not measured")
        ax.set_xticks(data["x"], [_short(x) for x in data["x"]])
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.legend(fontsize="small")
    fig.suptitle("ratatouille: cost of each operation as tables grow and age")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot: {_shown(path)}", flush=True)


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 10_000:
        return f"{n / 1_000:g}k"
    return f"{n:,}"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("ratatouille", "pyiceberg", "pyarrow", "chdb"):
        with contextlib.suppress(PackageNotFoundError):
            out[package] = version(package)
    return out


# -- main ------------------------------------------------------------------------------------------------


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` picks small defaults, explicit options override them."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (bench/run.py --quick)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated among {', '.join(PARTS)} (sweep = size,history)")  # fmt: skip
    parser.add_argument("--merge-rows", type=_ints, help="two sizes for the merge ratio, e.g. 2e6,2e7")
    parser.add_argument("--sizes", type=_ints, help="table sizes of the size sweep, e.g. 1e6,4e6,1.6e7")
    parser.add_argument(
        "--history", type=_ints, help="snapshot counts of the history sweep, e.g. 10,300,3000"
    )
    parser.add_argument("--history-rows", type=int, help="rows of the aged table")
    parser.add_argument(
        "--history-mode",
        choices=("commit", "appends"),
        default="commit",
        help="age the table in one history commit, or by real 100-row appends (slow)",
    )
    parser.add_argument("--pruning-rows", type=int, help="rows of the 30-day table")
    parser.add_argument("--pruning-where", help="the one-day filter (default: an event_ts range on day 16)")
    parser.add_argument("--compact-files", type=int, help="small files before compaction")
    parser.add_argument("--compact-rows", type=int, help="rows of the compaction tables")
    parser.add_argument(
        "--compact-target-mb", type=int, default=8, help="target_file_mb given to ice_compact"
    )
    parser.add_argument("--batch-rows", type=int, default=1_000_000, help="rows per SDK write when building")
    parser.add_argument("--repeat", type=int, default=3, help="samples per median (merge, sweep)")
    parser.add_argument("--json", type=Path, help="where the figures go (JSON)")
    parser.add_argument("--png", type=Path, help="where the plot goes")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if "sweep" in parts:
        parts = (parts - {"sweep"}) | {"size", "history"}
    unknown = parts - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}: use {', '.join(PARTS)} or sweep")
    if len(args.merge_rows) != 2:
        parser.error("--merge-rows takes two sizes")
    args.parts = [p for p in PARTS if p in parts]
    suffix = "-quick" if args.quick else ""
    args.json = args.json or HERE / "results" / f"tables{suffix}.json"
    args.png = args.png or (
        HERE / "results" / "scaling-quick.png" if args.quick else ROOT / "docs/img/scaling.png"
    )
    return args


def warm_up(lh: Lakehouse) -> None:
    """Start the engine and import the write path once, so the first measurement does not pay for it."""
    lh.write(make_rows(0, 1_000), "bench.warmup")
    lh.write(make_rows(500, 1_000), "bench.warmup", mode="merge", merge_keys=["id"])
    lh.query_arrow("SELECT count() FROM {bench.warmup}")
    drop(lh, "bench.warmup")


def main(argv: list[str] | None = None) -> int:
    """Run the selected parts in one temporary lakehouse (removed at the end, even on failure)."""
    args = parse_args(argv)
    res = Results()
    failed: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rat-bench-tables-") as tmp:
        lh = Lakehouse(Settings.for_home(Path(tmp)))
        r = Rat(lh)
        runs: list[tuple[str, Callable[[], None]]] = [
            ("merge", lambda: part_merge(lh, res, args.merge_rows, args.batch_rows, args.repeat)),
            ("append/history", lambda: part_history(
                lh, r, res, args.history_rows, sorted(args.history), "append" in args.parts,
                "history" in args.parts, args.repeat, args.history_mode == "appends")),
            ("pruning", lambda: part_pruning(lh, res, args.pruning_rows, args.pruning_where)),
            ("compaction", lambda: part_compaction(
                lh, r, res, args.compact_rows, args.compact_files, args.compact_target_mb, args.repeat)),
            ("size", lambda: part_size(lh, r, res, sorted(args.sizes), args.batch_rows, args.repeat)),
        ]  # fmt: skip
        try:
            warm_up(lh)
            for name, run in runs:
                if not set(name.split("/")) & set(args.parts):
                    continue
                print(f"-- {name}", flush=True)
                res.part = name
                res.ran.append(name)
                try:
                    run()
                except Exception as e:
                    # Features land one at a time: one part failing must not hide the others' figures.
                    failed.append(name)
                    res.check(f"{name}: ran to the end", False, f"{type(e).__name__}: {e}")
                    traceback.print_exc()
                    drop(lh, *(".".join(t) for t in lh.catalog.list_tables("bench")))
        finally:
            lh.close()
    summary(res)
    print(f"  peak memory {peak_rss_mb():,.0f} MB, {time.perf_counter() - start:.0f} s", flush=True)
    save(res, args, args.json, args.png)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
