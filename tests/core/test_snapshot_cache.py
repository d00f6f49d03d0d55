"""The snapshot cache: never a different answer than the files, always in its bound, never a failed query."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratatouille import Rat
from ratatouille.config import Settings
from ratatouille.engine import QueryStats
from ratatouille.engine.cache import FILL_SETTINGS, CacheWarning, SnapshotCache
from ratatouille.errors import ConfigError
from ratatouille.session import Lakehouse
from ratatouille.sql.pruning import pruning_disabled

QUERIES = [
    "SELECT id, qty, tag FROM {t} ORDER BY id, qty, tag",
    "SELECT tag, count() AS n, sum(qty) AS s FROM {t} GROUP BY tag ORDER BY tag",
    "SELECT count() AS n FROM {t} WHERE id >= 40 AND id < 60",
    "SELECT a.id, b.qty FROM {t} AS a JOIN {t} AS b ON a.id = b.id WHERE a.qty > 5 ORDER BY a.id, b.qty",
]


def _rows(n: int, start: int = 0, qty: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(start, start + n),
            "qty": [qty + i % 7 for i in range(n)],
            "tag": [f"t{i % 3}" for i in range(n)],
        }
    )


def _both(session: Lakehouse, sql: str) -> tuple[list[dict[str, object]], list[dict[str, object]], list[str]]:
    """The answer read through the cache, the answer read from the files, and what the cache served."""
    stats = QueryStats()
    cached = session.query_arrow(sql, stats=stats).to_pylist()
    files = session.engine.query_arrow(session.expand(sql).sql).to_pylist()
    return cached, files, stats.cached


@pytest.fixture
def cached(lakehouse: Lakehouse) -> Lakehouse:
    lakehouse.engine.cache.clear()
    lakehouse.engine.cache.set_limit(256 << 20)
    return lakehouse


def test_a_read_is_cached_and_a_new_snapshot_is_a_new_entry(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(50), "bronze.c")
    sql = "SELECT count() AS n, sum(qty) AS s FROM {bronze.c}"
    first, files, served = _both(cached, sql)
    assert first == files and served == ["bronze.c"]
    info = rat.cache_info()
    assert (info.entries, info.fills) == (1, 1) and info.bytes > 0
    assert _both(cached, sql)[0] == first and rat.cache_info().hits == 1
    rat.ice_ingest_df(_rows(5, start=50), "bronze.c", mode="append")
    after, files_after, _ = _both(cached, sql)
    assert after == files_after and after[0]["n"] == 55  # never the cached older snapshot
    assert rat.cache_info().entries == 2
    assert rat.cache_clear() == 2 and rat.cache_info().entries == 0


def test_the_cache_serves_any_column_subset_and_filter(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(100), "bronze.c")
    for sql in [q.replace("{t}", "{bronze.c}") for q in QUERIES] + ["SELECT tag FROM {bronze.c} LIMIT 0"]:
        cached_rows, files, _ = _both(cached, sql)
        assert cached_rows == files, sql
    assert rat.cache_info().entries == 1


def test_a_pruned_read_does_not_fill_until_it_repeats(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(10), "bronze.p")
    rat.ice_ingest_df(_rows(10, start=1000), "bronze.p", mode="append")  # a second file, far apart
    sql = "SELECT sum(qty) AS s FROM {bronze.p} WHERE id >= 1000"
    assert cached.expand(sql).reads[0].pruned
    first, files, served = _both(cached, sql)
    assert first == files and served == [] and rat.cache_info().entries == 0
    second, _, served = _both(cached, sql)
    assert second == first and served == ["bronze.p"]  # the second pruned read filled the whole snapshot
    whole, files, _ = _both(cached, "SELECT count() AS n FROM {bronze.p}")
    assert whole == files == [{"n": 20}]


def test_eviction_keeps_the_bound_and_the_most_recent(cached: Lakehouse) -> None:
    rat = Rat(cached)
    for name in ("e1", "e2", "e3"):
        rat.ice_ingest_df(_rows(20_000), f"bronze.{name}")
    rat.query("SELECT count() FROM {bronze.e1}")
    one = rat.cache_info().bytes
    cached.engine.cache.set_limit(int(one * 2.5))
    for name in ("e2", "e3", "e1", "e3"):
        got, files, _ = _both(cached, f"SELECT sum(qty) AS s, count() AS n FROM {{bronze.{name}}}")
        assert got == files
        assert rat.cache_info().bytes <= int(one * 2.5)
    info = rat.cache_info()
    assert info.evictions >= 1 and info.entries == 2
    assert [t[0] for t in info.tables] == ["bronze.e1", "bronze.e3"]  # e2 was the least recently used


def test_a_snapshot_larger_than_the_bound_reads_the_files_and_says_so_once(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(20_000), "bronze.big")
    cached.engine.cache.set_limit(4096)
    with pytest.warns(CacheWarning, match="larger than RAT_CACHE_MB"):
        got, files, served = _both(cached, "SELECT sum(qty) AS s FROM {bronze.big}")
    assert got == files and served == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not on every query
        assert _both(cached, "SELECT sum(qty) AS s FROM {bronze.big}")[0] == got
    info = rat.cache_info()
    assert info.entries == 0 and info.fill_failures == 1 and "larger than" in info.reason


def test_a_fill_the_engine_refuses_falls_back_to_the_files(
    cached: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(20_000), "bronze.oom")
    cache = cached.engine.cache
    cache.set_limit(64 << 20)
    # A limit the fill breaks: the engine stops it, as it would a fill out of memory.
    monkeypatch.setitem(FILL_SETTINGS, "max_execution_time", 0.000001)
    with pytest.warns(CacheWarning, match="could not cache bronze.oom"):
        got, files, served = _both(cached, "SELECT sum(qty) AS s, count() AS n FROM {bronze.oom}")
    assert got == files and served == []
    assert rat.cache_info().entries == 0
    names = cached.engine.query_arrow(
        "SELECT name FROM system.tables WHERE database = 'rat_cache'"
    ).to_pylist()
    table_uuid = str(cached.resolve("bronze.oom").table.metadata.table_uuid).replace("-", "")
    assert not [n for n in names if table_uuid in n["name"]]  # the failed fill left no table behind


def test_an_entry_dropped_behind_the_cache_is_read_from_the_files(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(30), "bronze.gone")
    sql = "SELECT sum(qty) AS s FROM {bronze.gone}"
    want = rat.query(sql).to_dict("records")
    expanded = cached.expand(sql, cached=True)
    assert expanded.from_cache
    cached.engine.command(f"DROP TABLE {expanded.cached[0]}")  # as another thread's eviction would
    assert cached._run(expanded, None).to_pylist() == want
    assert rat.query(sql).to_dict("records") == want  # filled again


def test_cache_off(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(30), "bronze.off")
    cached.engine.cache.set_limit(0)
    stats = QueryStats()
    cached.query_arrow("SELECT count() FROM {bronze.off}", stats=stats)
    info = rat.cache_info()
    assert stats.cached == [] and not info.enabled and info.reason == "RAT_CACHE_MB is 0"
    assert "off" in info.summary()


def test_a_server_engine_has_the_cache_off_with_its_reason(lakehouse: Lakehouse) -> None:
    cache = SnapshotCache(lakehouse.engine, 1 << 30, off_reason="a ClickHouse server")
    assert not cache.enabled and cache.info().reason == "a ClickHouse server"
    assert cache.source(("u", 1, 0), "t", pruned=False, parquet_bytes=0, full_source=lambda: "") is None


@pytest.mark.parametrize("value", ["lots", "-5", "1.5", str(10**9)])
def test_a_bad_cache_bound_is_one_clear_error(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAT_CACHE_MB"):
        Settings.from_env({"RAT_HOME": str(tmp_path), "RAT_CACHE_MB": value}, cwd=tmp_path)


def test_the_cache_bound_defaults_to_an_eighth_of_memory(tmp_path: Path) -> None:
    from ratatouille.config import machine_memory_bytes

    s = Settings.from_env({"RAT_HOME": str(tmp_path)}, cwd=tmp_path)
    assert s.cache_mb == machine_memory_bytes() // 8 // 2**20
    assert Settings.from_env({"RAT_HOME": str(tmp_path), "RAT_CACHE_MB": "0"}, cwd=tmp_path).cache_mb == 0


# -- randomized: any history, any snapshot, cached or not, the same answer -------------------------------

OPS = st.lists(
    st.sampled_from(["append", "overwrite", "merge", "delete", "branch_append", "branch_merge"]),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, seed=st.integers(0, 1000))
def test_random_histories_read_the_same_cached_or_not(cached: Lakehouse, ops: list[str], seed: int) -> None:
    rat = Rat(cached)
    name = f"bronze.r{seed}_{len(ops)}"
    table_ref = "{" + name + "}"
    rat.ice_ingest_df(_rows(60, qty=seed % 5), name, mode="overwrite")
    snapshots = []
    for i, op in enumerate(ops):
        batch = _rows(10 + i, start=seed % 50 + i * 7, qty=i + 2)
        if op == "append":
            rat.ice_ingest_df(batch, name, mode="append")
        elif op == "overwrite":
            rat.ice_ingest_df(_rows(40, start=i, qty=i), name, mode="overwrite")
        elif op == "merge":
            rat.ice_merge(batch, name, merge_keys=["id"])
        elif op == "delete":
            rat.ice_delete(name, f"id % {i + 2} = 0")
        else:
            branch = f"dev_c{i}"
            with rat.dev_context(branch, tables=[name]):
                if op == "branch_append":
                    rat.ice_ingest_df(batch, name, mode="append")
                else:
                    rat.ice_merge(batch, name, merge_keys=["id"])
                for sql in QUERIES:
                    got, files, _ = _both(cached, sql.replace("{t}", table_ref))
                    assert got == files, (op, sql)
        snapshots.append(cached.resolve(name).snapshot_id)
    refs = [table_ref] + [f"{{{name}@{s}}}" for s in snapshots if s is not None]
    for ref in refs:
        for sql in QUERIES:
            got, files, _ = _both(cached, sql.replace("{t}", ref))
            assert got == files, (ops, ref, sql)
    with pruning_disabled():
        got, files, _ = _both(cached, QUERIES[2].replace("{t}", table_ref))
        assert got == files


# -- two processes share nothing ----------------------------------------------------------------------------

_PROCESS = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from ratatouille import Rat
    from ratatouille.config import Settings
    from ratatouille.session import Lakehouse

    rat = Rat(Lakehouse(Settings.for_home(sys.argv[1], cache_mb=64)))
    for line in sys.stdin:
        word = line.strip()
        if word == "read":
            n = rat.query("SELECT count() AS n FROM {bronze.shared}")["n"][0]
            info = rat.cache_info()
            print(f"{n} {info.entries} {info.hits}", flush=True)
        elif word == "write":
            rat.ice_ingest_df(pd.DataFrame({"id": [1000]}), "bronze.shared", mode="append")
            print("ok", flush=True)
    """
)


def test_two_processes_share_nothing(tmp_path: Path) -> None:
    Rat(Lakehouse(Settings.for_home(tmp_path))).ice_ingest_df(
        pd.DataFrame({"id": range(10)}), "bronze.shared"
    )
    env = {**os.environ, "PYTHONWARNINGS": "error::ratatouille.engine.cache.CacheWarning"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]

    def ask(p: subprocess.Popen[str], word: str) -> str:
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(word + "\n")
        p.stdin.flush()
        return p.stdout.readline().strip()

    try:
        a, b = procs
        assert ask(a, "read") == "10 1 0"
        assert ask(a, "read") == "10 1 1"  # served by a's cache
        assert ask(b, "write") == "ok"
        assert ask(a, "read") == "11 2 1"  # b's commit is a new snapshot: a reads it, never its cached copy
        assert ask(b, "read") == "11 1 0"  # b has a cache of its own
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_the_cache_handles_tables_of_every_type(cached: Lakehouse) -> None:
    import datetime as dt
    import decimal

    data = pa.table(
        {
            "i": pa.array([1, None, 3], pa.int64()),
            "d": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-3.50")], pa.decimal128(12, 2)),
            "ts": pa.array([dt.datetime(2024, 1, 1, 12), None, dt.datetime(2024, 3, 1)], pa.timestamp("us")),
            "day": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1), None], pa.date32()),
            "s": pa.array(["a", None, "c"]),
            "l": pa.array([[1, 2], [], None], pa.list_(pa.int64())),
        }
    )
    cached.write(data, "bronze.types", mode="overwrite")
    got, files, served = _both(cached, "SELECT * FROM {bronze.types} ORDER BY i")
    assert got == files and served == ["bronze.types"]


def test_a_transform_uses_a_cached_snapshot_but_does_not_fill_one(cached: Lakehouse) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(_rows(50), "bronze.src")
    before = rat.cache_info()
    rat.transform("SELECT id, qty FROM {bronze.src}", "silver.dst")
    info = rat.cache_info()
    assert (info.entries, info.misses - before.misses, info.hits - before.hits) == (0, 1, 0)  # no fill
    rat.query("SELECT count() FROM {bronze.src}")  # an interactive read fills
    rat.transform("SELECT id, qty * 2 AS qty FROM {bronze.src}", "silver.dst")
    assert rat.cache_info().hits - before.hits == 1
    assert rat.query("SELECT sum(qty) AS s FROM {silver.dst}")["s"][0] == 2 * int(_rows(50)["qty"].sum())


def test_a_fill_short_of_memory_evicts_the_rest_and_retries(
    cached: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    rat = Rat(cached)
    rat.ice_ingest_df(
        pd.DataFrame({"id": range(600_000), "s": [f"text {i}" for i in range(600_000)]}), "bronze.old"
    )
    rat.ice_ingest_df(
        pd.DataFrame({"id": range(200_000), "s": [f"text {i}" for i in range(200_000)]}), "bronze.new"
    )
    cache = cached.engine.cache
    cache.set_limit(64 << 20)
    rat.query("SELECT count() FROM {bronze.old}")
    assert rat.cache_info().entries == 1 and rat.cache_info().bytes > 16 << 20
    # Every byte counted, and 24 MB at most with the cache empty: with bronze.old in, the fill runs short.
    before = rat.cache_info()
    monkeypatch.setitem(FILL_SETTINGS, "max_untracked_memory", 0)
    monkeypatch.setattr("ratatouille.engine.cache._FILL_HEADROOM", -(40 << 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the retry succeeds: nothing to say
        got, files, served = _both(cached, "SELECT count() AS n, max(s) AS m FROM {bronze.new}")
    assert got == files and served == ["bronze.new"]
    info = rat.cache_info()
    assert [t[0] for t in info.tables] == ["bronze.new"]
    assert info.evictions - before.evictions == 1 and info.fill_failures == before.fill_failures
