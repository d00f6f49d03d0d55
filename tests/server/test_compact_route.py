"""Data-file counts in the table detail, and the compact route, on a fresh lakehouse per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ratatouille.config import Settings
from ratatouille.session import Lakehouse
from ratatouille.tables.policy import DEFAULT_TARGET_FILE_BYTES, set_policy
from ratatouille_jupyter.server import file_stats
from ratatouille_jupyter.server.service import Explorer

pytestmark = pytest.mark.timeout(120)

EVENTS = pa.table({"id": pa.array([1, 2], pa.int64()), "region": ["north", "south"]})


def _append_events(home: Path, times: int, branch: str = "main") -> None:
    """``times`` appends to ``bronze.events`` (partitioned by region): two small files each."""
    lh = Lakehouse(Settings.for_home(home))
    lh.use_branch(branch)
    for _ in range(times):
        lh.write(EVENTS, "bronze.events", partition_by=["region"])
    lh.close()


@pytest.fixture
def rat_home(writable_home: Path) -> Path:
    """``bronze.sales`` (two files, unpartitioned) and ``bronze.events`` (six files, by region)."""
    _append_events(writable_home, 3)
    return writable_home


async def test_detail_reports_partitioning_and_files(api: Any) -> None:
    events = await api("tables", "bronze", "events")
    assert events["partitioning"] == ["region"]
    assert [(f["source"], f["transform"]) for f in events["partition_fields"]] == [("region", "identity")]
    assert (events["files_branch"], events["files"], events["small_files"]) == ("main", 6, 6)
    assert events["file_bytes"] == events["size_bytes"] > 0
    assert events["small_file_bytes"] == DEFAULT_TARGET_FILE_BYTES * 3 // 4
    assert events["target_file_bytes"] == DEFAULT_TARGET_FILE_BYTES

    sales = await api("tables", "bronze", "sales")
    assert sales["partitioning"] == []
    assert (sales["files"], sales["small_files"]) == (2, 2)


async def test_small_files_follow_the_policy(api: Any, rat_home: Path) -> None:
    lh = Lakehouse(Settings.for_home(rat_home))
    table = lh.catalog.load_table("bronze.events")
    snapshot = table.current_snapshot()
    assert snapshot is not None
    sizes = sorted(file_stats.scan_file_sizes(table, snapshot))
    assert len(sizes) == 6
    # A threshold between the sizes: only the files under it are small (same snapshot, new threshold).
    set_policy(lh.catalog, "bronze.events", small_file_bytes=sizes[0] + 1)
    lh.close()
    events = await api("tables", "bronze", "events")
    assert events["small_file_bytes"] == sizes[0] + 1
    assert events["small_files"] == sum(1 for s in sizes if s <= sizes[0])
    assert events["files"] == 6


async def test_compact_drops_the_file_count(api: Any) -> None:
    before = await api("tables", "bronze", "events")
    report = await api("tables", "bronze", "events", "compact", method="POST")
    assert report["branch"] == "main"
    assert (report["files_before"], report["files_after"]) == (6, 2)
    assert report["rewritten"] == 6 and report["added"] == 2
    assert isinstance(report["snapshot_id"], str) and report["snapshot_id"] != before["snapshot_id"]

    after = await api("tables", "bronze", "events")
    assert (after["files"], after["small_files"], after["row_count"]) == (2, 2, before["row_count"])
    assert after["snapshot_id"] == report["snapshot_id"]
    newest = (await api("tables", "bronze", "events", "snapshots", params={"limit": "1"}))["items"][0]
    assert (newest["operation"], newest["maintenance"]) == ("compact", "sidebar")
    assert newest["user"]  # the Jupyter user who asked

    # Nothing left worth rewriting (one small file per partition): no new snapshot.
    again = await api("tables", "bronze", "events", "compact", method="POST", body={"branch": "main"})
    assert (again["files_before"], again["files_after"]) == (2, 2)
    assert again["snapshot_id"] == report["snapshot_id"]


async def test_delete_files_show_in_the_detail_and_compaction_removes_them(api: Any, rat_home: Path) -> None:
    from ratatouille.testing import commit_equality_deletes, commit_position_deletes

    lh = Lakehouse(Settings.for_home(rat_home))
    table = lh.catalog.load_table("bronze.sales")  # unpartitioned: the delete files need no partition
    first = next(iter(table.scan().plan_files())).file.file_path
    commit_position_deletes(table, {first: [0]})
    key = lh.catalog.load_table("bronze.sales").schema().fields[0].name
    commit_equality_deletes(lh.catalog.load_table("bronze.sales"), {key: [None]})
    lh.close()
    before = await api("tables", "bronze", "sales")
    assert (before["files"], before["delete_files"], before["deleted_rows"]) == (2, 2, 2)
    assert (await api("tables", "bronze", "events"))["delete_files"] == 0

    report = await api("tables", "bronze", "sales", "compact", method="POST")
    assert report["delete_files_removed"] == 2
    after = await api("tables", "bronze", "sales")
    assert (after["delete_files"], after["deleted_rows"]) == (0, 0)


async def test_compact_a_branch_leaves_main_alone(api: Any, rat_home: Path) -> None:
    await api("tables", "bronze", "events", "branches", method="POST", body={"name": "dev"})
    _append_events(rat_home, 2, branch="dev")
    dev = await api("tables", "bronze", "events", params={"ref": "dev"})
    assert (dev["files_branch"], dev["files"]) == ("dev", 10)

    report = await api("tables", "bronze", "events", "compact", method="POST", body={"branch": "dev"})
    assert (report["branch"], report["files_before"], report["files_after"]) == ("dev", 10, 2)
    assert (await api("tables", "bronze", "events", params={"ref": "dev"}))["files"] == 2
    assert (await api("tables", "bronze", "events"))["files"] == 6


async def test_a_tag_shows_main_files_and_is_not_compacted(api: Any, api_error: Any, rat_home: Path) -> None:
    lh = Lakehouse(Settings.for_home(rat_home))
    table = lh.catalog.load_table("bronze.sales")
    table.manage_snapshots().create_tag(table.metadata.refs["main"].snapshot_id, "v1").commit()
    lh.close()
    tagged = await api("tables", "bronze", "sales", params={"ref": "v1"})
    assert (tagged["files_branch"], tagged["files"]) == ("main", 2)
    code, body = await api_error("tables", "bronze", "sales", "compact", method="POST", body={"branch": "v1"})
    assert (code, body["error"]) == (400, "InvalidInput") and "tag" in body["message"]


@pytest.mark.parametrize(
    ("table", "body", "status", "error"),
    [
        ("nope", None, 404, "NotFound"),
        ("events", {"branch": "nope"}, 404, "NotFound"),
        ("events", {"branch": 5}, 400, "InvalidInput"),
        ("events", {"branch": "bad name"}, 400, "InvalidInput"),
        ("events", {"branch": "../x"}, 400, "InvalidInput"),
        ("events", {"sort_by": "id"}, 400, "InvalidInput"),
        ("events", ["main"], 400, "InvalidInput"),
        ("bad-name", None, 400, "InvalidInput"),
    ],
)
async def test_compact_bad_requests(api_error: Any, table: str, body: Any, status: int, error: str) -> None:
    code, answer = await api_error("tables", "bronze", table, "compact", method="POST", body=body)
    assert (code, answer["error"]) == (status, error), answer
    assert answer["message"]


async def test_compact_body_that_is_not_json_is_400(jp_fetch: Any) -> None:
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("ratatouille", "tables", "bronze", "events", "compact", method="POST", body="{nope")
    assert info.value.code == 400


class TestReadOnly:
    @pytest.fixture
    def rat_read_only(self) -> bool:
        return True

    async def test_compact_is_403_and_files_still_show(self, api: Any, api_error: Any) -> None:
        code, body = await api_error("tables", "bronze", "events", "compact", method="POST")
        assert (code, body["error"]) == (403, "ReadOnly")
        assert (await api("tables", "bronze", "events"))["files"] == 6


def test_manifests_are_read_once_per_snapshot_and_threshold(
    rat_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = file_stats.scan_file_sizes

    def counting(table: Any, snapshot: Any) -> list[int]:
        reads.append(snapshot.snapshot_id)
        return real(table, snapshot)

    monkeypatch.setattr(file_stats, "scan_file_sizes", counting)
    explorer = Explorer(Settings.for_home(rat_home))
    try:
        for _ in range(3):
            assert explorer.detail("bronze", "events")["small_files"] == 6
        # Six files of a few kB together are under the 48 MiB threshold: the summary answers alone.
        assert reads == []
        set_policy(explorer.catalog, "bronze.events", target_file_bytes=4096, small_file_bytes=1)
        for _ in range(3):
            assert explorer.detail("bronze", "events")["small_files"] == 0
        assert len(reads) == 1
        explorer.compact("bronze", "events")  # nothing is small with this policy: no commit
        assert explorer.detail("bronze", "events")["files"] == 6
    finally:
        explorer.close()
