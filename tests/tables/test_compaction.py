"""Compaction and manifest rewrite: every row kept, fewer files, one ``replace`` commit."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import LongType, NestedField, StringType

from ratatouille.errors import Conflict
from ratatouille.sdk import Rat
from ratatouille.tables import policy_of

from .conftest import batch, data_files, full, head, small_files


def test_compaction_keeps_every_row_in_one_replace_commit(rat: Rat) -> None:
    small_files(rat, "bronze.c", 6)
    before, head_before, files_before = (
        full(rat, "bronze.c"),
        head(rat, "bronze.c"),
        data_files(rat, "bronze.c"),
    )
    assert len(files_before) == 6
    report = rat.ice_compact("bronze.c")
    assert report["files_before"] == 6 and report["rewritten"] == 6 and report["files_after"] == 1
    assert full(rat, "bronze.c").equals(before)
    table = rat.session.catalog.load_table("bronze.c")
    snap = table.current_snapshot()
    assert snap is not None and snap.snapshot_id == report["snapshot_id"]
    assert snap.parent_snapshot_id == head_before  # one commit on top of the old head
    assert snap.summary is not None and snap.summary.operation.value == "replace"
    assert snap.summary["ratatouille.operation"] == "compact"
    assert len(data_files(rat, "bronze.c")) == 1
    assert rat.query("SELECT count() AS n, sum(id) AS s FROM {bronze.c}").to_dict("records") == [
        {"n": 600, "s": sum(range(600))}
    ]
    # Time travel to the snapshot before still works (the old files are still there).
    assert len(rat.ice_time_travel("bronze.c", head_before)) == 600
    # Nothing left to do: no commit.
    again = rat.ice_compact("bronze.c")
    assert again["rewritten"] == 0 and head(rat, "bronze.c") == report["snapshot_id"]


def test_a_small_target_gives_at_most_one_file_per_target_size(rat: Rat) -> None:
    small_files(rat, "bronze.s", 8, n=500)
    before = full(rat, "bronze.s")
    target = 8 * 1024
    report = rat.ice_compact("bronze.s", target_file_mb=target / 1024 / 1024)
    assert full(rat, "bronze.s").equals(before)
    assert 1 < report["files_after"] < 8
    assert report["files_after"] <= math.ceil(report["bytes_before"] / target) + 1
    # The new files are about the target's size: compacting again finds nothing worth doing.
    sizes = [f.file_size_in_bytes for f in data_files(rat, "bronze.s")]
    assert sum(1 for size in sizes if size < target * 3 // 4) <= 1, sizes
    assert rat.ice_compact("bronze.s", target_file_mb=target / 1024 / 1024)["rewritten"] == 0


def test_sort_by_orders_the_rewritten_rows(local_rat: Rat) -> None:
    for start in (800, 400, 0):
        local_rat.ice_ingest_df(batch(start, 100), "bronze.o")
    report = local_rat.ice_compact("bronze.o", sort_by=["id"])
    assert report["files_after"] == 1
    ids = local_rat.session.catalog.load_table("bronze.o").scan().to_arrow()["id"].to_pylist()
    assert ids == sorted(ids) and len(ids) == 300


def test_a_partitioned_table_is_compacted_per_partition_keeping_its_spec(rat: Rat) -> None:
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "region", StringType(), required=False),
    )
    spec = PartitionSpec(
        PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region")
    )
    rat.session.catalog.create_namespace_if_not_exists("bronze")
    rat.session.catalog.create_table("bronze.p", schema=schema, partition_spec=spec)
    for i in range(4):
        rat.ice_ingest_df(
            batch(i * 10, 10, region=["north"] * 5 + ["south"] * 5).drop(columns="v"), "bronze.p"
        )
    assert len(data_files(rat, "bronze.p")) == 8
    before = full(rat, "bronze.p")
    report = rat.ice_compact("bronze.p")
    assert report["rewritten"] == 8 and report["files_after"] == 2
    after = data_files(rat, "bronze.p")
    assert sorted(str(f.partition) for f in after) == sorted({str(f.partition) for f in after})
    assert {f.spec_id for f in after} == {rat.session.catalog.load_table("bronze.p").spec().spec_id}
    assert full(rat, "bronze.p").equals(before)


def test_compaction_on_a_dev_branch_leaves_main_alone(local_rat: Rat) -> None:
    small_files(local_rat, "bronze.d", 3)
    main_head = head(local_rat, "bronze.d")
    local_rat.dev_start("work", ["bronze.d"])
    local_rat.ice_ingest_df(batch(1000, 10), "bronze.d")
    report = local_rat.ice_compact("bronze.d")
    assert report["files_after"] == 1
    assert head(local_rat, "bronze.d") == main_head
    assert full(local_rat, "bronze.d", "work").num_rows == 310
    assert local_rat.dev_merge()["published"] == {"bronze.d": report["snapshot_id"]}


def test_rewrite_manifests_makes_one_manifest_per_spec(rat: Rat) -> None:
    from ratatouille.tables import rewrite_manifests

    small_files(rat, "bronze.m", 5, n=10)
    before = full(rat, "bronze.m")
    table = rat.session.catalog.load_table("bronze.m")
    assert len(table.current_snapshot().manifests(table.io)) == 5  # type: ignore[union-attr]
    report = rewrite_manifests(rat.session.catalog, "bronze.m")
    assert (report["manifests_before"], report["manifests_after"]) == (5, 1)
    table = rat.session.catalog.load_table("bronze.m")
    snap = table.current_snapshot()
    assert snap is not None and len(snap.manifests(table.io)) == 1
    assert snap.summary is not None and snap.summary.operation.value == "replace"
    assert full(rat, "bronze.m").equals(before)
    assert rewrite_manifests(rat.session.catalog, "bronze.m")["snapshot_id"] == snap.snapshot_id


def test_policy_defaults_and_settings(local_rat: Rat) -> None:
    local_rat.ice_ingest_df(batch(0, 1), "bronze.pol")
    policy = local_rat.ice_policy("bronze.pol")
    assert policy["target_file_bytes"] == 64 * 1024 * 1024 and policy["retain_last"] == 20
    assert policy["max_snapshot_age"] == "604800s" and policy["orphan_min_age"] == "259200s"
    changed = local_rat.ice_policy(
        "bronze.pol", retain_last=5, max_snapshot_age="36h", target_file_bytes=1 << 20
    )
    assert changed["retain_last"] == 5 and changed["max_snapshot_age"] == f"{36 * 3600}s"
    assert changed["small_file_bytes"] == (1 << 20) * 3 // 4
    props = local_rat.session.catalog.load_table("bronze.pol").metadata.properties
    assert props["history.expire.min-snapshots-to-keep"] == "5"
    assert props["history.expire.max-snapshot-age-ms"] == str(36 * 3600 * 1000)
    assert props["write.target-file-size-bytes"] == str(1 << 20)
    assert policy_of(local_rat.session.catalog.load_table("bronze.pol")).retain_last == 5
    assert isinstance(pa.table({"x": [1]}), pa.Table)


MOR_WRITER = """
import sys, chdb
session = chdb.session.Session() if hasattr(chdb, "session") else None
run = session.query if session else chdb.query
path = sys.argv[1]
settings = " SETTINGS allow_experimental_insert_into_iceberg=1"
run(f"CREATE TABLE t (id Int64, v String) ENGINE = IcebergLocal('{path}')")
run("INSERT INTO t SELECT number, toString(number) FROM numbers(10)" + settings)
run("ALTER TABLE t DELETE WHERE id < 3" + settings)
"""


def test_a_table_with_row_level_deletes_is_compacted_into_plain_files(local_rat: Rat, tmp_path: Path) -> None:
    folder = tmp_path / "mor"
    done = subprocess.run(
        [sys.executable, "-c", MOR_WRITER, str(folder)], capture_output=True, text=True, cwd=tmp_path
    )
    if done.returncode != 0:
        pytest.skip(f"chDB could not write a merge-on-read table here: {done.stderr[-300:]}")
    metadata = sorted((folder / "metadata").glob("v*.metadata.json"))[-1]
    local_rat.session.catalog.create_namespace_if_not_exists("ext")
    local_rat.session.catalog.register_table("ext.mor", metadata.as_uri())
    expected = list(range(3, 10))
    assert sorted(local_rat.query("SELECT id FROM {ext.mor}")["id"]) == expected
    report = local_rat.ice_compact("ext.mor")
    assert report["delete_files_removed"] == 1 and report["rewritten"] == 1
    table = local_rat.session.catalog.load_table("ext.mor")
    assert all(not t.delete_files for t in table.scan().plan_files())
    summary = table.current_snapshot().summary  # type: ignore[union-attr]
    assert summary is not None and summary.operation.value == "replace"
    assert summary["total-delete-files"] == "0" and summary["total-position-deletes"] == "0"
    assert sorted(local_rat.query("SELECT id FROM {ext.mor}")["id"]) == expected
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == expected
    # Nothing left to do: maintenance finds no delete files and no small files.
    again = local_rat.ice_compact("ext.mor")
    assert again["snapshot_id"] == report["snapshot_id"]


def test_a_rebase_skips_compactions_on_the_branch(local_rat: Rat) -> None:
    local_rat.ice_ingest_df(batch(0, 10), "bronze.src")
    local_rat.dev_start("rb", ["bronze.src"])
    local_rat.transform("SELECT id * 2 AS id FROM {bronze.src}", "silver.dst", mode="append")
    local_rat.transform("SELECT id * 3 AS id FROM {bronze.src}", "silver.dst", mode="append")
    assert local_rat.ice_compact("silver.dst")["rewritten"] == 2
    local_rat.dev()
    local_rat.ice_ingest_df(batch(100, 1), "bronze.src")  # main moved
    local_rat.dev("rb")
    with pytest.raises(Conflict):
        local_rat.dev_merge()
    assert local_rat.dev_merge(rebase=True)["rebased"] == ["silver.dst"]
    local_rat.dev()
    assert len(local_rat.ice_read("silver.dst")) == 22
