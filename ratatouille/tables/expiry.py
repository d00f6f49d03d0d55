"""Snapshot expiry: drop old snapshots from a table's history and delete the files only they used.

Kept, always: the head of every branch and tag, the last ``retain_last`` snapshots of main, and on
every other branch its head and its fork point with main (dev mode finds a branch's fork by walking
both histories: cutting it would make every branch look as if main had moved). Of the rest, snapshots
older than the cut-off go, in ONE commit guarded by every ref still pointing where it was planned.

Files are deleted only after that commit, and only those referenced by an expired snapshot and by no
snapshot left in the committed metadata (of any ref). Snapshot ancestry is how the ingestion registry
knows a file is in a branch; before ancestry is cut, the registry is told which retained snapshots
descend from each expired one (``lineage``), so already-ingested files stay ingested.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..branches.refs import ancestors
from ..catalog import load_table
from ..errors import InvalidInput
from ..reading import MAIN, head_snapshot_id
from .commit import retrying, transaction
from .policy import parse_duration, policy_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyiceberg.table.metadata import TableMetadata


class Lineage(Protocol):
    """Keeps what expiry cuts: the ingestion registry (:class:`~ratatouille.ingest.registry.Registry`)."""

    def keep_lineage(self, table: Table, anchors: Mapping[int, set[int]]) -> None:
        """Before expiry: each expired snapshot id -> the retained snapshots that descend from it."""

    def forget_expired(self, table: Table, expired: set[int]) -> None:
        """After expiry: the snapshots that are gone."""


def cutoff_of(older_than: Any) -> dt.datetime:
    """The cut-off time of ``older_than``: a datetime, a timedelta, or a duration string (``"7d"``)."""
    if isinstance(older_than, dt.datetime):
        return older_than if older_than.tzinfo else older_than.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC) - parse_duration(older_than, "older_than")


def check_retain(retain_last: Any) -> int:
    """Validate ``retain_last`` (a positive integer: main's head is always kept)."""
    if isinstance(retain_last, bool) or not isinstance(retain_last, int) or retain_last < 1:
        raise InvalidInput(f"retain_last must be an integer of at least 1, got {retain_last!r}")
    return retain_last


def plan_expiry(table: Table, cutoff: dt.datetime, retain_last: int) -> set[int]:
    """Snapshot ids to expire (see the module docstring for what is kept)."""
    refs = table.metadata.refs
    keep = {ref.snapshot_id for ref in refs.values()}
    main_line = ancestors(table, head_snapshot_id(table, MAIN))
    keep.update(main_line[:retain_last])
    main_set = set(main_line)
    for name, ref in refs.items():
        if name == MAIN or ref.snapshot_ref_type.value != "branch":
            continue
        line = ancestors(table, ref.snapshot_id)
        keep.update(line[: max(1, ref.min_snapshots_to_keep or 1)])
        fork = next((s for s in line if s in main_set), None)
        if fork is not None:
            keep.add(fork)
    limit = int(cutoff.timestamp() * 1000)
    return {
        s.snapshot_id
        for s in table.metadata.snapshots
        if s.timestamp_ms < limit and s.snapshot_id not in keep
    }


def anchors_of(table: Table, expired: set[int]) -> dict[int, set[int]]:
    """Each expired snapshot -> the nearest retained snapshots descending from it (empty when none)."""
    out: dict[int, set[int]] = {sid: set() for sid in expired}
    for snap in table.metadata.snapshots:
        if snap.snapshot_id in expired:
            continue
        parent = snap.parent_snapshot_id
        seen: set[int] = set()
        while parent is not None and parent in expired and parent not in seen:
            seen.add(parent)
            out[parent].add(snap.snapshot_id)
            found = table.metadata.snapshot_by_id(parent)
            parent = None if found is None else found.parent_snapshot_id
    return dict(out)


def expire(
    catalog: Catalog,
    identifier: str,
    *,
    older_than: Any = None,
    retain_last: int | None = None,
    lineage: Lineage | None,
    delete_files: bool = True,
) -> dict[str, Any]:
    """Expire a table's old snapshots in one commit, then delete the files no remaining snapshot uses.

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``.
        older_than: A datetime, timedelta or duration string (``"7d"``); the policy's
            ``max_snapshot_age`` when omitted.
        retain_last: Snapshots of main always kept (at least 1); the policy's when omitted.
        lineage: The ingestion registry, told what ancestry is cut. Required (None only for a catalog
            with no registry): without it, whether a file ingested before the expiry is still in a branch
            can only be guessed from where it was ingested.
        delete_files: False keeps the files (an orphan sweep removes them later).

    Returns:
        ``expired`` (snapshots removed), ``snapshots_left``, ``deleted_files`` (data and delete files),
        ``deleted_manifests``, ``deleted_manifest_lists``.

    Raises:
        NotFound: No such table.
        InvalidInput: A bad ``older_than`` or ``retain_last``.
        Conflict: Concurrent commits kept winning; nothing was changed.
    """
    table = load_table(catalog, identifier)
    policy = policy_of(table)
    cutoff = cutoff_of(policy.max_snapshot_age if older_than is None else older_than)
    keep = check_retain(policy.retain_last if retain_last is None else retain_last)

    def attempt() -> tuple[TableMetadata, set[int]]:
        from pyiceberg.table.update import AssertRefSnapshotId, RemoveSnapshotsUpdate

        current = load_table(catalog, identifier)
        ids = plan_expiry(current, cutoff, keep)
        planned = current.metadata  # committing replaces the table's metadata object: keep this one
        if not ids:
            return planned, ids
        if lineage is not None:
            lineage.keep_lineage(current, anchors_of(current, ids))
        tx = transaction(current)
        # Guarded by every ref: a ref moved meanwhile (a rollback, a new tag) could point at a snapshot
        # planned for removal, which would take the ref with it. Plan again instead.
        guards = tuple(
            AssertRefSnapshotId(ref=name, snapshot_id=ref.snapshot_id)  # type: ignore[call-arg]
            for name, ref in current.metadata.refs.items()
        )
        tx._stage((RemoveSnapshotsUpdate(snapshot_ids=sorted(ids)),), guards)  # type: ignore[call-arg]
        tx.commit_transaction()
        return planned, ids

    before, expired = retrying(attempt, f"expire snapshots of {identifier}")
    after = load_table(catalog, identifier)
    report: dict[str, Any] = {
        "expired": len(expired),
        "snapshots_left": len(after.metadata.snapshots),
        "deleted_files": 0,
        "deleted_manifests": 0,
        "deleted_manifest_lists": 0,
    }
    if not expired:
        return report
    if lineage is not None:
        lineage.forget_expired(after, expired)
    if delete_files:
        report.update(delete_unreferenced(before, after, expired))
    return report


def referenced_files(table: Table) -> tuple[set[str], set[str], set[str]]:
    """(manifest lists, manifests, live data and delete files) of every snapshot of the table."""
    lists: set[str] = set()
    manifests: set[str] = set()
    files: set[str] = set()
    for snap in table.metadata.snapshots:
        lists.add(snap.manifest_list)
        for manifest in snap.manifests(table.io):
            if manifest.manifest_path in manifests:
                continue
            manifests.add(manifest.manifest_path)
            files.update(
                e.data_file.file_path for e in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            )
    return lists, manifests, files


def delete_unreferenced(before: TableMetadata, after: Table, expired: set[int]) -> dict[str, int]:
    """Delete the files of the expired snapshots (known from ``before``) that nothing in ``after`` uses."""
    keep_lists, keep_manifests, keep_files = referenced_files(after)
    gone_lists: set[str] = set()
    gone_manifests: set[str] = set()
    gone_files: set[str] = set()
    for sid in expired:
        snap = before.snapshot_by_id(sid)
        if snap is None:
            continue
        if snap.manifest_list not in keep_lists:
            gone_lists.add(snap.manifest_list)
        for manifest in snap.manifests(after.io):
            if manifest.manifest_path in keep_manifests or manifest.manifest_path in gone_manifests:
                continue
            gone_manifests.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(after.io, discard_deleted=False):
                if entry.data_file.file_path not in keep_files:
                    gone_files.add(entry.data_file.file_path)
    counts = {"deleted_files": 0, "deleted_manifests": 0, "deleted_manifest_lists": 0}
    for key, paths in (("deleted_files", gone_files), ("deleted_manifests", gone_manifests),
                       ("deleted_manifest_lists", gone_lists)):  # fmt: skip
        for path in sorted(paths):
            try:
                after.io.delete(path)
                counts[key] += 1
            except FileNotFoundError:
                continue
            except OSError:  # best effort: what is left is found by the orphan sweep
                continue
    return counts
