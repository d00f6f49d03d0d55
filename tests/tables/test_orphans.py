"""Orphan sweep: only unreferenced files older than the minimum age go; a fresh one always survives."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pyarrow as pa
import pytest

from ratatouille.errors import InvalidInput
from ratatouille.sdk import Rat
from ratatouille.tables import remove_orphans
from ratatouille.tables.orphans import listing

from .conftest import batch, exists, head, small_files


def put(rat: Rat, table: str, name: str) -> str:
    """Write a stray file into the table's data folder; return its URI."""
    t = rat.session.catalog.load_table(table)
    path = f"{t.location().rstrip('/')}/data/{name}"
    with t.io.new_output(path).create(overwrite=True) as out:
        out.write(b"not referenced by anything")
    return path


def uncommitted_data_file(rat: Rat, table: str) -> str:
    """A data file written as a writer would before its commit (which never comes)."""
    from pyiceberg.io.pyarrow import _dataframe_to_data_files

    t = rat.session.catalog.load_table(table)
    data = pa.table({"id": pa.array([1], pa.int64()), "v": pa.array(["x"], pa.large_string())})
    (data_file,) = _dataframe_to_data_files(t.metadata, data, t.io, write_uuid=uuid.uuid4())
    return str(data_file.file_path)


def test_only_old_unreferenced_files_are_deleted(rat: Rat) -> None:
    small_files(rat, "bronze.o", 3)
    rat.ice_compact("bronze.o")  # the three small files stay: the snapshots before still use them
    old = put(rat, "bronze.o", "stray-old.parquet")
    time.sleep(2.1)  # object stores keep modification times to the second
    fresh = put(rat, "bronze.o", "stray-new.parquet")
    in_flight = uncommitted_data_file(rat, "bronze.o")
    table = rat.session.catalog.load_table("bronze.o")
    mtimes = listing(table)
    old_mtime = next(m for p, m in mtimes.items() if p.endswith("stray-old.parquet"))
    before_head, listed = head(rat, "bronze.o"), len(mtimes)
    # With the real clock nothing is old enough.
    report = rat.ice_remove_orphans("bronze.o", older_than="1h")
    assert report["orphans"] == 3 and report["deleted"] == 0 and report["kept_recent"] == 3
    # An hour and a second after the old stray was written, it alone is old enough to go.
    now = old_mtime + dt.timedelta(hours=1, seconds=1)
    report = remove_orphans(rat.session.catalog, "bronze.o", older_than="1h", now=now)
    assert (report["listed"], report["orphans"], report["deleted"]) == (listed, 3, 1)
    assert not exists(rat, "bronze.o", old)
    assert exists(rat, "bronze.o", fresh) and exists(rat, "bronze.o", in_flight)
    # Every referenced file is still there: every snapshot reads.
    for snap in rat.session.catalog.load_table("bronze.o").metadata.snapshots:
        assert snap.summary is not None
        assert len(rat.ice_time_travel("bronze.o", snap.snapshot_id)) == int(snap.summary["total-records"])
    assert head(rat, "bronze.o") == before_head


def test_the_sweep_removes_what_expiry_left_and_keeps_metadata_files(local_rat: Rat) -> None:
    for i in range(3):
        local_rat.ice_ingest_df(batch(i * 10, 10), "bronze.x", mode="overwrite")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    report = remove_orphans(local_rat.session.catalog, "bronze.x", older_than="3d", now=later)
    assert report["orphans"] == 0 and report["deleted"] == 0  # everything is referenced
    put(local_rat, "bronze.x", "stray.parquet")
    report = remove_orphans(local_rat.session.catalog, "bronze.x", older_than="3d", now=later)
    assert report["deleted"] == 1
    assert len(local_rat.ice_read("bronze.x")) == 10


def test_the_minimum_age_has_a_floor(local_rat: Rat) -> None:
    local_rat.ice_ingest_df(batch(0, 1), "bronze.f")
    for bad in ("10m", "0s", dt.timedelta(minutes=59), "3 days", -1):
        with pytest.raises(InvalidInput):
            local_rat.ice_remove_orphans("bronze.f", older_than=bad)
    with pytest.raises(InvalidInput, match="at least 1:00:00"):
        local_rat.ice_policy("bronze.f", orphan_min_age="30m")
