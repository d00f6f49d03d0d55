"""Data files of a branch head for the sidebar: how many, how big, how many are small, and delete files.

The count and total size come from the snapshot summary (``total-data-files``, ``total-files-size``), as
do the row-level delete files other engines wrote (``total-delete-files``, ``total-position-deletes``,
``total-equality-deletes``);
only the small-file count needs the manifests (each data file's size against the table's policy). That
read is done once per snapshot and threshold: :class:`FileStatsCache` keeps the answers by table uuid,
snapshot id and threshold (a snapshot never changes; a new policy is a new threshold).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ratatouille.errors import InvalidInput
from ratatouille.reading import MAIN
from ratatouille.tables.policy import policy_of

if TYPE_CHECKING:
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot


@dataclass(frozen=True)
class FileStats:
    """Data files of one snapshot.

    Attributes:
        files: Data files (delete files are not counted).
        file_bytes: Their total size (the summary's ``total-files-size`` when it has one).
        small_files: Data files smaller than the threshold they were counted against.
        delete_files: Row-level delete files (reads apply them; compaction removes them).
        deleted_rows: The rows they delete (position and equality delete rows, as the summary counts).
    """

    files: int
    file_bytes: int
    small_files: int
    delete_files: int = 0
    deleted_rows: int = 0


def compaction_branch(table: Table, ref: str | None, snapshot_id: int | None) -> str:
    """The branch whose files a detail reports and that Compact rewrites: the branch shown, else main.

    A tag or a snapshot id (time travel) cannot be compacted, so their detail reports main's files.
    """
    if snapshot_id is not None or ref is None:
        return MAIN
    found = table.metadata.refs.get(ref)
    if found is not None and found.snapshot_ref_type.value == "branch":
        return ref
    return MAIN


def _summary_int(summary: dict[str, str], key: str) -> int | None:
    text = str(summary.get(key, ""))
    return int(text) if text.isdigit() else None


def scan_file_sizes(table: Table, snapshot: Snapshot) -> list[int]:
    """The sizes of the live data files of a snapshot, read from its data manifests."""
    from pyiceberg.manifest import DataFileContent, ManifestContent

    sizes: list[int] = []
    for manifest in snapshot.manifests(table.io):
        if manifest.content != ManifestContent.DATA:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if entry.data_file.content == DataFileContent.DATA:
                sizes.append(int(entry.data_file.file_size_in_bytes))
    return sizes


def _delete_stats(table: Table, snapshot: Snapshot, summary: dict[str, str]) -> dict[str, int]:
    """The delete files of a snapshot and the rows they delete: from the summary, else its delete manifests.

    The summary's totals are optional in Iceberg; without them, the manifest list says whether there are
    delete manifests at all, and only those are read.
    """
    from pyiceberg.manifest import ManifestContent

    files = _summary_int(summary, "total-delete-files")
    if files is not None:
        kinds = ("total-position-deletes", "total-equality-deletes")
        rows = sum(_summary_int(summary, k) or 0 for k in kinds)
        return {"delete_files": files, "deleted_rows": rows}
    count = rows = 0
    for manifest in snapshot.manifests(table.io):
        if manifest.content != ManifestContent.DELETES:
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            count += 1
            rows += int(entry.data_file.record_count)
    return {"delete_files": count, "deleted_rows": rows}


def compute_file_stats(table: Table, snapshot: Snapshot | None, small_file_bytes: int) -> FileStats:
    """Count the data files of ``snapshot`` (none: an empty table) and those under ``small_file_bytes``.

    The manifests are read only when the summary cannot answer: no files, or all of them smaller than
    the threshold together, need no read.
    """
    if snapshot is None:
        return FileStats(0, 0, 0)
    summary = snapshot.summary.additional_properties if snapshot.summary else {}
    files = _summary_int(summary, "total-data-files")
    total = _summary_int(summary, "total-files-size")
    deletes = _delete_stats(table, snapshot, summary)
    if files == 0:
        return FileStats(0, total or 0, 0, **deletes)
    if files is not None and total is not None:
        if small_file_bytes <= 0:
            return FileStats(files, total, 0, **deletes)
        if total < small_file_bytes:
            return FileStats(files, total, files, **deletes)  # each file is smaller than all of them together
    sizes = scan_file_sizes(table, snapshot)
    small = sum(1 for size in sizes if size < small_file_bytes)
    return FileStats(
        files if files is not None else len(sizes),
        total if total is not None else sum(sizes),
        small,
        **deletes,
    )


class FileStatsCache:
    """:func:`compute_file_stats` answers by ``(table uuid, snapshot id, threshold)``, least recent out.

    Args:
        capacity: Most answers kept (each is three integers).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._items: OrderedDict[tuple[str, int, int], FileStats] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def stats(self, table: Table, snapshot: Snapshot | None, small_file_bytes: int) -> FileStats:
        """The file stats of ``snapshot`` of ``table``, computed once."""
        if snapshot is None:
            return FileStats(0, 0, 0)
        key = (str(table.metadata.table_uuid), snapshot.snapshot_id, small_file_bytes)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        stats = compute_file_stats(table, snapshot, small_file_bytes)
        with self._lock:
            self._items[key] = stats
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return stats

    def __len__(self) -> int:
        return len(self._items)


def file_fields(
    table: Table, ref: str | None, snapshot_id: int | None, cache: FileStatsCache
) -> dict[str, Any]:
    """The detail's file fields, of the head of the branch Compact rewrites (``files_branch``).

    ``files``, ``small_files``, ``file_bytes``, ``delete_files`` and ``deleted_rows``, with the policy's
    ``small_file_bytes`` and ``target_file_bytes``.

    A policy property that cannot be read leaves ``small_files`` and the sizes null (the detail still
    answers; compaction then reports the property).
    """
    branch = compaction_branch(table, ref, snapshot_id)
    found = table.metadata.refs.get(branch)
    snapshot = table.metadata.snapshot_by_id(found.snapshot_id) if found is not None else None
    try:
        policy = policy_of(table)
    except InvalidInput:
        stats = cache.stats(table, snapshot, 0)  # a threshold of 0: nothing is small
        return {
            "files_branch": branch,
            "files": stats.files,
            "small_files": None,
            "delete_files": stats.delete_files,
            "deleted_rows": stats.deleted_rows,
            "file_bytes": stats.file_bytes,
            "small_file_bytes": None,
            "target_file_bytes": None,
        }
    stats = cache.stats(table, snapshot, policy.small_file_bytes)
    return {
        "files_branch": branch,
        "files": stats.files,
        "small_files": stats.small_files,
        "delete_files": stats.delete_files,
        "deleted_rows": stats.deleted_rows,
        "file_bytes": stats.file_bytes,
        "small_file_bytes": policy.small_file_bytes,
        "target_file_bytes": policy.target_file_bytes,
    }
