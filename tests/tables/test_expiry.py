"""Expiry: refs, fork points and the last snapshots are kept, files only expired snapshots used are deleted,
time travel to what is kept works, and the ingestion registry still knows what was ingested."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ratatouille.sdk import Rat
from tests.ingest.conftest import Landing

from .conftest import batch, data_files, exists, head


def overwrites(rat: Rat, table: str, count: int) -> list[int]:
    """``count`` overwrites (each replaces the table's one file); their snapshot ids, oldest first."""
    ids = []
    for i in range(count):
        rat.ice_ingest_df(batch(i * 10, 10), table, mode="overwrite")
        sid = head(rat, table)
        assert sid is not None
        ids.append(sid)
    return ids


def test_expiry_keeps_refs_and_the_last_snapshots_and_deletes_only_unused_files(rat: Rat) -> None:
    ids = overwrites(rat, "bronze.e", 6)
    table = rat.session.catalog.load_table("bronze.e")
    table.manage_snapshots().create_tag(ids[1], "v1").commit()
    table.manage_snapshots().create_branch(ids[2], "side").commit()
    files = {}
    for sid in ids:
        (task,) = rat.session.catalog.load_table("bronze.e").scan(snapshot_id=sid).plan_files()
        files[sid] = task.file.file_path
    report = rat.ice_expire("bronze.e", older_than="0s", retain_last=2)
    # Kept: the tag, the branch head (its own fork point), the last two of main. Expired: ids[0], ids[3].
    assert report["expired"] == 2 and report["snapshots_left"] == 4
    left = {s.snapshot_id for s in rat.session.catalog.load_table("bronze.e").metadata.snapshots}
    assert left == {ids[1], ids[2], ids[4], ids[5]}
    assert report["deleted_files"] == 2 and report["deleted_manifest_lists"] == 2
    assert not exists(rat, "bronze.e", files[ids[0]]) and not exists(rat, "bronze.e", files[ids[3]])
    for sid in left:
        assert exists(rat, "bronze.e", files[sid])
        assert len(rat.ice_time_travel("bronze.e", sid)) == 10
    assert rat.query("SELECT min(id) AS m FROM {bronze.e@v1}").to_dict("records") == [{"m": 10}]
    assert rat.query("SELECT min(id) AS m FROM {bronze.e@side}").to_dict("records") == [{"m": 20}]
    assert head(rat, "bronze.e") == ids[5]


def test_appended_files_still_used_by_the_head_are_kept(rat: Rat) -> None:
    for i in range(4):
        rat.ice_ingest_df(batch(i * 10, 10), "bronze.a")
    report = rat.ice_expire("bronze.a", older_than="0s", retain_last=1)
    assert report["expired"] == 3 and report["deleted_files"] == 0  # the head reads all four files
    assert all(exists(rat, "bronze.a", f.file_path) for f in data_files(rat, "bronze.a"))
    assert len(rat.ice_read("bronze.a")) == 40


def test_the_policy_and_the_age_decide_by_default(local_rat: Rat) -> None:
    overwrites(local_rat, "bronze.p", 3)
    assert local_rat.ice_expire("bronze.p")["expired"] == 0  # 7 days by default: all too young
    local_rat.ice_policy("bronze.p", retain_last=2)
    assert local_rat.ice_expire("bronze.p", older_than=dt.timedelta(0))["expired"] == 1


def test_dev_branches_keep_their_fork_point_and_can_still_be_published(local_rat: Rat) -> None:
    overwrites(local_rat, "bronze.f", 2)
    local_rat.dev_start("feature", ["bronze.f"])
    local_rat.ice_ingest_df(batch(100, 5), "bronze.f")
    local_rat.dev()
    fork = head(local_rat, "bronze.f")
    local_rat.ice_expire("bronze.f", older_than="0s", retain_last=1)
    left = {s.snapshot_id for s in local_rat.session.catalog.load_table("bronze.f").metadata.snapshots}
    assert fork in left
    local_rat.dev("feature")
    (state,) = local_rat.dev_status()["tables"]
    assert state["fork"] == fork and state["main_moved"] is False
    assert local_rat.dev_merge()["published"]
    # rat.expire (dev mode's call) goes through the same primitive.
    local_rat.dev()
    assert local_rat.expire(older_than=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))["bronze.f"] >= 0


def test_files_ingested_before_expiry_are_not_ingested_again(rat: Rat) -> None:
    landing = Landing(rat.session.settings)
    for day in (1, 2, 3):
        landing.put(f"pos/day_{day}.csv", f"id,amount\n{day},{day * 10}\n")
        _, stats = rat.ice_ingest_batch(f"landing/pos/day_{day}.csv", "bronze.pos")
        assert stats["rows"] == 1
    rat.ice_ingest_df(pd.DataFrame({"id": [99], "amount": [0]}), "bronze.pos")  # a later commit
    report = rat.ice_expire("bronze.pos", older_than="0s", retain_last=1)
    assert report["expired"] == 3 and report["snapshots_left"] == 1
    _, stats = rat.ice_ingest_batch("landing/pos/*.csv", "bronze.pos", skip_existing=True)
    assert stats["already_ingested"] == 3 and stats["rows"] == 0
    assert len(rat.ice_read("bronze.pos")) == 4
    # A second expiry carries the lineage forward to the new oldest snapshot.
    rat.ice_ingest_df(pd.DataFrame({"id": [100], "amount": [0]}), "bronze.pos")
    assert rat.ice_expire("bronze.pos", older_than="0s", retain_last=1)["expired"] == 1
    landing.put("pos/day_4.csv", "id,amount\n4,40\n")
    _, stats = rat.ice_ingest_batch("landing/pos/*.csv", "bronze.pos", skip_existing=True)
    assert stats["already_ingested"] == 3 and stats["rows"] == 1
    assert len(rat.ice_read("bronze.pos")) == 6
