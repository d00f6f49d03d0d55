"""Snapshot expiry and compaction never make an ingested file count as new (nor a dropped one as ingested).

The registry judges "already ingested on this branch" by snapshot ancestry, which expiry cuts and
compaction extends: every entry point that expires snapshots must leave that judgement unchanged.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ratatouille.sdk import Rat

from .conftest import Landing

FUTURE = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)


def _count(rat: Rat, table: str) -> int:
    return int(rat.query(f"SELECT count() AS n FROM {{{table}}}")["n"][0])


def _still_ingested(rat: Rat, glob: str, table: str, files: int) -> None:
    """Ingesting ``glob`` again with skip_existing writes nothing: every file counts as ingested."""
    before = _count(rat, table)
    _, stats = rat.ice_ingest_batch(glob, table, skip_existing=True)
    assert stats["already_ingested"] == files and stats["rows"] == 0, stats
    assert _count(rat, table) == before


def _ingest_days(rat: Rat, landing: Landing, table: str, days: range) -> None:
    for day in days:
        landing.put(f"{table}/day_{day}.csv", f"id,amount\n{day},{day * 10}\n")
        _, stats = rat.ice_ingest_batch(f"landing/{table}/day_{day}.csv", table)
        assert stats["rows"] == 1


def test_compaction_then_expiry_of_everything_keeps_files_ingested(rat: Rat, landing: Landing) -> None:
    _ingest_days(rat, landing, "bronze.c", range(1, 4))
    rat.ice_compact("bronze.c")
    report = rat.ice_expire("bronze.c", older_than="0s", retain_last=1)
    assert report["expired"] >= 3 and report["snapshots_left"] == 1
    _still_ingested(rat, "landing/bronze.c/*.csv", "bronze.c", 3)
    # The policy's defaults (nothing old enough), then with everything expirable, through every entry point.
    rat.ice_ingest_df(pd.DataFrame({"id": [99], "amount": [0]}), "bronze.c")
    rat.ice_expire("bronze.c")
    _still_ingested(rat, "landing/bronze.c/*.csv", "bronze.c", 3)
    rat.ice_ingest_df(pd.DataFrame({"id": [100], "amount": [0]}), "bronze.c")
    rat.expire(older_than=FUTURE)
    _still_ingested(rat, "landing/bronze.c/*.csv", "bronze.c", 3)
    _ingest_days(rat, landing, "bronze.c", range(4, 7))
    rat.ice_policy("bronze.c", retain_last=1, max_snapshot_age="0s", min_compact_files=2)
    report = rat.ice_maintain("bronze.c")["bronze.c"]
    assert report["compaction"]["rewritten"] >= 2 and report["expiry"]["expired"] >= 3
    _still_ingested(rat, "landing/bronze.c/*.csv", "bronze.c", 6)
    rat.expire(older_than=FUTURE, table="bronze.c")
    _still_ingested(rat, "landing/bronze.c/*.csv", "bronze.c", 6)
    assert _count(rat, "bronze.c") == 8


def test_writes_capping_history_keep_files_ingested(rat: Rat, landing: Landing) -> None:
    _ingest_days(rat, landing, "bronze.cap", range(1, 3))
    rat.ice_policy("bronze.cap", max_snapshots=1)
    for i in range(4):
        rat.ice_ingest_df(pd.DataFrame({"id": [100 + i], "amount": [0]}), "bronze.cap")
    assert len(rat.session.catalog.load_table("bronze.cap").metadata.snapshots) <= 3
    _still_ingested(rat, "landing/bronze.cap/*.csv", "bronze.cap", 2)


def test_branch_ingestion_survives_compaction_merge_and_expiry(rat: Rat, landing: Landing) -> None:
    _ingest_days(rat, landing, "bronze.br", range(1, 2))
    rat.dev_start("b")
    _ingest_days(rat, landing, "bronze.br", range(2, 5))
    rat.ice_compact("bronze.br")  # on the branch
    _still_ingested(rat, "landing/bronze.br/*.csv", "bronze.br", 4)
    rat.dev_merge()
    rat.dev(None)
    _still_ingested(rat, "landing/bronze.br/*.csv", "bronze.br", 4)
    rat.expire(older_than=FUTURE)
    _still_ingested(rat, "landing/bronze.br/*.csv", "bronze.br", 4)
    rat.dev_drop("b")
    rat.ice_ingest_df(pd.DataFrame({"id": [99], "amount": [0]}), "bronze.br")
    rat.ice_expire("bronze.br", older_than="0s", retain_last=1)
    rat.expire(older_than=FUTURE)
    assert len(rat.session.catalog.load_table("bronze.br").metadata.snapshots) == 1
    _still_ingested(rat, "landing/bronze.br/*.csv", "bronze.br", 4)
    assert _count(rat, "bronze.br") == 5


def test_file_ingested_on_a_dropped_branch_is_new_on_main(rat: Rat, landing: Landing) -> None:
    _ingest_days(rat, landing, "bronze.dr", range(1, 2))
    rat.dev_start("gone")
    landing.put("drop/x.csv", "id,amount\n7,70\n")
    landing.put("drop/y.csv", "id,amount\n8,80\n")
    assert rat.ice_ingest_batch("landing/drop/x.csv", "bronze.dr")[1]["rows"] == 1
    assert rat.ice_ingest_batch("landing/drop/y.csv", "bronze.dr")[1]["rows"] == 1
    rat.ice_compact("bronze.dr")
    rat.dev_drop("gone")
    _, stats = rat.ice_ingest_batch("landing/drop/x.csv", "bronze.dr", skip_existing=True)
    assert stats["already_ingested"] == 0 and stats["rows"] == 1
    # After the dropped branch's snapshots expired, through either entry point, too.
    rat.expire(older_than=FUTURE)
    rat.ice_expire("bronze.dr", older_than="0s", retain_last=1)
    _, stats = rat.ice_ingest_batch("landing/drop/y.csv", "bronze.dr", skip_existing=True)
    assert stats["already_ingested"] == 0 and stats["rows"] == 1
    _still_ingested(rat, "landing/bronze.dr/*.csv", "bronze.dr", 1)
    _still_ingested(rat, "landing/drop/*.csv", "bronze.dr", 2)
    assert _count(rat, "bronze.dr") == 3


def test_expiry_that_tells_the_registry_nothing_keeps_files_ingested(rat: Rat, landing: Landing) -> None:
    from ratatouille.tables.expiry import expire

    _ingest_days(rat, landing, "bronze.fx", range(1, 3))
    rat.ice_ingest_df(pd.DataFrame({"id": [99], "amount": [0]}), "bronze.fx")
    # pyiceberg's own expiry (another tool on the same catalog): parent links cut, nothing recorded.
    table = rat.session.catalog.load_table("bronze.fx")
    table.maintenance.expire_snapshots().older_than(FUTURE).commit()
    assert len(rat.session.catalog.load_table("bronze.fx").metadata.snapshots) == 1
    _still_ingested(rat, "landing/bronze.fx/*.csv", "bronze.fx", 2)
    _ingest_days(rat, landing, "bronze.fx", range(3, 4))
    rat.ice_ingest_df(pd.DataFrame({"id": [100], "amount": [0]}), "bronze.fx")
    expire(rat.session.catalog, "bronze.fx", older_than="0s", retain_last=1, lineage=None)
    _still_ingested(rat, "landing/bronze.fx/*.csv", "bronze.fx", 3)
    # A file of a dropped branch stays new on main, whoever expired its snapshot.
    rat.dev_start("side")
    landing.put("side/x.csv", "id,amount\n7,70\n")
    assert rat.ice_ingest_batch("landing/side/x.csv", "bronze.fx")[1]["rows"] == 1
    rat.dev_drop("side")
    table = rat.session.catalog.load_table("bronze.fx")
    table.maintenance.expire_snapshots().older_than(FUTURE).commit()
    _, stats = rat.ice_ingest_batch("landing/side/x.csv", "bronze.fx", skip_existing=True)
    assert stats["already_ingested"] == 0 and stats["rows"] == 1
    assert _count(rat, "bronze.fx") == 6


def test_file_of_a_rolled_back_commit_is_new_after_expiry(rat: Rat, landing: Landing) -> None:
    from ratatouille.branches.refs import set_ref

    _ingest_days(rat, landing, "bronze.rb", range(1, 2))
    table = rat.session.catalog.load_table("bronze.rb")
    before = table.metadata.current_snapshot_id
    assert before is not None
    _ingest_days(rat, landing, "bronze.rb", range(2, 3))
    table = rat.session.catalog.load_table("bronze.rb")
    set_ref(table, "main", before, expected=table.metadata.current_snapshot_id)
    rat.ice_expire("bronze.rb", older_than="0s", retain_last=1)
    assert len(rat.session.catalog.load_table("bronze.rb").metadata.snapshots) == 1
    _, stats = rat.ice_ingest_batch("landing/bronze.rb/*.csv", "bronze.rb", skip_existing=True)
    assert stats["already_ingested"] == 1 and stats["rows"] == 1
    assert _count(rat, "bronze.rb") == 2
