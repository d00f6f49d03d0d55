"""Compaction: bin-pack a branch's small data files into files of about the target size, in one commit.

Files are grouped by partition (spec and value); in each group with two or more small files those are
read through pyiceberg (so older files are projected onto the current schema exactly as readers see
them), optionally sorted, and written again with pyiceberg's writer, which splits by the target size.
The old files are swapped for the new ones in ONE ``replace`` snapshot guarded by the head it was
planned on: a concurrent write makes the commit fail, and compaction plans again on the new head, so
no row is lost or duplicated. Files of an older partition spec are left alone (they keep their spec).

A table with row-level delete files (written by another engine, see :mod:`.deletes`) is rewritten into
plain files: every data file some delete file applies to is read with its deletes applied (position
deletes by pyiceberg's reader, equality deletes here) and rewritten, whatever its size, and every delete
file leaves the snapshot in the same commit. The table then reads the same, with no delete file.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..catalog import load_table
from ..errors import InvalidInput, NotFound
from ..reading import MAIN, head_snapshot_id
from ..sqltext import validate_branch_name
from .commit import lost_race, retrying, snapshot_properties, transaction
from .policy import PROPERTIES, policy_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import FileScanTask, Table

    from .deletes import SnapshotDeletes


def _head(table: Table, identifier: str, branch: str) -> int | None:
    head = head_snapshot_id(table, branch)
    if head is None and branch != MAIN:
        raise NotFound(
            f"table {identifier} has no branch {branch!r} yet (a table joins a branch on its first write "
            "there); to compact main, switch back with rat.dev()"
        )
    ref = table.metadata.refs.get(branch)
    if ref is not None and ref.snapshot_ref_type.value != "branch":
        raise InvalidInput(f"{branch!r} is a tag of {identifier}: only branches can be compacted")
    return head


def data_tasks(table: Table, identifier: str, snapshot_id: int) -> list[FileScanTask]:
    """The scan tasks of a snapshot: one per data file, with the position delete files that apply.

    Raises:
        InvalidInput: The snapshot has files this reader cannot apply (see :mod:`.deletes`).
    """
    from .deletes import scan_tasks

    return scan_tasks(table, snapshot_id)[0]


def _check_sort(table: Table, sort_by: list[str] | str | None) -> list[str]:
    columns = [sort_by] if isinstance(sort_by, str) else list(sort_by or [])
    names = [f.name for f in table.schema().fields]
    unknown = [c for c in columns if c not in names]
    if unknown:
        raise InvalidInput(
            f"cannot sort by {', '.join(map(repr, unknown))}: the columns are {', '.join(names)}"
        )
    return columns


def _groups(
    tasks: list[FileScanTask],
    default_spec: int,
    small: int,
    target: int,
    sorting: bool,
    deleted: AbstractSet[str] = frozenset(),
) -> tuple[list[list[FileScanTask]], int]:
    """Groups of files to rewrite together (one partition each), and the count of old-spec files left.

    The files in ``deleted`` (paths of files some delete file applies to) are always rewritten.
    """
    by_partition: dict[tuple[int, str], list[FileScanTask]] = defaultdict(list)
    old_spec = 0
    for task in tasks:
        if task.file.spec_id != default_spec and task.file.file_path not in deleted:
            old_spec += 1
            continue
        by_partition[(task.file.spec_id, repr(task.file.partition))].append(task)
    out = []
    for group in by_partition.values():
        if sorting:
            out.append(group)
            continue
        if any(t.file.file_path in deleted for t in group):
            out.append([t for t in group if t.file.file_path in deleted or t.file.file_size_in_bytes < small])
            continue
        picked = [t for t in group if t.file.file_size_in_bytes < small]
        # Worth it only when fewer files come out: two files of 70 % of the target stay two.
        if len(picked) >= 2 and math.ceil(sum(t.file.file_size_in_bytes for t in picked) / target) < len(
            picked
        ):
            out.append(picked)
    return out, old_spec


def compact(
    catalog: Catalog,
    identifier: str,
    *,
    branch: str = MAIN,
    sort_by: list[str] | str | None = None,
    target_file_bytes: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Bin-pack the small data files of a branch head into files of about the target size (one commit).

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``.
        branch: The branch to compact (its head moves; other refs are untouched).
        sort_by: Columns to sort the rewritten rows by; then every file of a partition is rewritten.
        target_file_bytes: The file size to aim at; the table's policy when omitted.
        context: Provenance stamped on the snapshot.

    Returns:
        ``files_before``, ``files_after``, ``rewritten`` (files replaced), ``added``, ``bytes_before``,
        ``bytes_after``, ``skipped_old_spec`` and ``snapshot_id`` (the head after; unchanged when there
        was nothing to do).

    Raises:
        NotFound: No such table or branch.
        InvalidInput: Unknown sort columns, a bad target, or a table with row-level delete files.
        Conflict: Concurrent writers kept winning; nothing was changed.
    """
    validate_branch_name(branch)
    if target_file_bytes is not None and (
        isinstance(target_file_bytes, bool) or not isinstance(target_file_bytes, int) or target_file_bytes < 1
    ):
        raise InvalidInput(f"target_file_bytes must be a positive integer, got {target_file_bytes!r}")
    table = load_table(catalog, identifier, branch)
    _head(table, identifier, branch)
    columns = _check_sort(table, sort_by)
    props = snapshot_properties("compact", context)
    return retrying(
        lambda: _attempt(catalog, identifier, branch, columns, target_file_bytes, props),
        f"compact {identifier}",
    )


def _attempt(
    catalog: Catalog,
    identifier: str,
    branch: str,
    sort_by: list[str],
    target_file_bytes: int | None,
    props: dict[str, str],
) -> dict[str, Any]:
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files

    from .commit import COMMIT_MARKER, conform
    from .deletes import scan_tasks
    from .outcome import commit_or_find
    from .producers import ReplaceFiles

    table = load_table(catalog, identifier, branch)
    head = _head(table, identifier, branch)
    tasks, deletes = scan_tasks(table, head) if head is not None else ([], None)
    policy = policy_of(table)
    target = target_file_bytes or policy.target_file_bytes
    small = policy.small_file_bytes if target_file_bytes is None else target * 3 // 4
    deleted = {t.file.file_path for t in tasks if deletes is not None and any(deletes.for_file(t.file))}
    groups, old_spec = _groups(tasks, table.metadata.default_spec_id, small, target, bool(sort_by), deleted)
    if deletes is not None and not groups:
        groups = [[]]  # delete files that apply to no data file: the commit drops them
    report: dict[str, Any] = {
        "files_before": len(tasks),
        "files_after": len(tasks),
        "rewritten": 0,
        "added": 0,
        "bytes_before": sum(t.file.file_size_in_bytes for t in tasks),
        "bytes_after": sum(t.file.file_size_in_bytes for t in tasks),
        "skipped_old_spec": old_spec,
        "delete_files_removed": 0,
        "snapshot_id": head,
    }
    if not groups:
        return report
    tx = transaction(table)
    commit_uuid = uuid.uuid4()
    removed: list[DataFile] = []
    added: list[DataFile] = []
    committing = False
    try:
        scan = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue())
        for group in groups:
            if not group:
                continue
            rows = _read(catalog, identifier, branch, head, scan, group, deletes)
            if sort_by:
                rows = rows.sort_by([(c, "ascending") for c in sort_by])
            # Sized as written: the table's exact Arrow types (a cast can change the in-memory size).
            rows, writer_target = _file_batches(conform(rows, tx.table_metadata), target)
            metadata = table.metadata.model_copy(
                update={
                    "properties": {
                        **table.metadata.properties,
                        PROPERTIES["target_file_bytes"]: str(writer_target),
                    }
                }
            )
            added.extend(
                _dataframe_to_data_files(
                    table_metadata=metadata,
                    df=conform(rows, tx.table_metadata),
                    io=table.io,
                    write_uuid=commit_uuid,
                )
            )
            removed.extend(t.file for t in group)
        producer = ReplaceFiles(
            operation=_overwrite(), transaction=tx, io=table.io, branch=branch,
            snapshot_properties=props, commit_uuid=commit_uuid,
        )  # fmt: skip
        for data_file in removed:
            producer.delete_data_file(data_file)
        dropped = deletes.delete_files if deletes is not None else []
        for delete_file in dropped:
            producer.delete_data_file(delete_file)
        for data_file in added:
            producer.append_data_file(data_file)
        producer.commit()
        committing = True
        # An unknown outcome (a 5xx, a dropped connection) is resolved by looking for the commit's marker.
        commit_or_find(tx, catalog, identifier, props[COMMIT_MARKER])
    except BaseException as e:
        # Files of a commit that surely did not happen are referenced by nobody: remove them now. When
        # the outcome is unknown they stay (the orphan sweep removes them if the commit did not land).
        if not committing or lost_race(e):
            _discard(table, added)
        raise
    after_bytes = report["bytes_before"] - sum(f.file_size_in_bytes for f in removed)
    after_bytes += sum(f.file_size_in_bytes for f in added)
    report.update(
        files_after=len(tasks) - len(removed) + len(added),
        rewritten=len(removed),
        added=len(added),
        bytes_after=after_bytes,
        delete_files_removed=len(dropped),
        snapshot_id=producer.snapshot_id,
    )
    return report


def _read(
    catalog: Catalog,
    identifier: str,
    branch: str,
    head: int | None,
    scan: Any,
    group: list[FileScanTask],
    deletes: SnapshotDeletes | None = None,
) -> pa.Table:
    """Read a group's files (projected onto the current schema), less the rows deleted by delete files.

    A file gone because the head moved on meanwhile (and an expiry removed it) means planning again,
    which the caller's retry does on a ``CommitFailedException``.
    """
    from pyiceberg.exceptions import CommitFailedException

    from .deletes import without_equality_deleted

    try:
        if deletes is None or not deletes.equality:
            rows: pa.Table = scan.to_table(group)
            return rows
        table = load_table(catalog, identifier, branch)
        read: dict[str, pa.Table] = {}  # each delete file read once for the whole group
        parts = [
            without_equality_deleted(table, scan.to_table([t]), deletes.for_file(t.file)[1], read)
            for t in group
        ]
        # pyiceberg reads one file's strings as string, another's as large_string: unify (conform() casts).
        return pa.concat_tables(parts, promote_options="permissive")
    except OSError as e:
        if head_snapshot_id(load_table(catalog, identifier, branch), branch) != head:
            raise CommitFailedException(f"{identifier}@{branch} moved while its files were read") from e
        raise


def _file_batches(rows: pa.Table, target: int) -> tuple[pa.Table, int]:
    """Rows in one batch per file of about ``target`` Parquet bytes, and the writer target to match.

    The second value is the in-memory size per file that makes pyiceberg's writer put one batch in each
    file. The writer cuts files by the rows' in-memory size, several times their Parquet size, and packs whole
    record batches: so the Parquet size of the rows is estimated from a sample written the way the
    table writes (zstd), the file count is that over the target (at least one), and the rows are sliced
    evenly into that many batches. Neither the old files' boundaries nor a small last file survive.
    """
    import io

    import pyarrow.parquet as pq

    if rows.num_rows == 0 or rows.nbytes == 0:
        return rows, target
    sample = rows.slice(0, min(rows.num_rows, 100_000))
    buffer = io.BytesIO()
    pq.write_table(sample, buffer, compression="zstd")
    estimate = buffer.tell() * rows.num_rows / max(1, sample.num_rows)
    # Rounded, not ceiled: a sample compresses a little worse than the whole (measured: about 10%), and
    # an estimate a little high must not add a file; files end up between 3/4 and 3/2 of the target.
    files = max(1, round(estimate / target))
    per_file = math.ceil(rows.num_rows / files)
    batches = rows.combine_chunks().to_batches(max_chunksize=per_file)
    largest = max(b.nbytes for b in batches)
    return pa.Table.from_batches(batches, rows.schema), int(largest * 1.05) + 1


def _overwrite() -> Any:
    from pyiceberg.table.snapshots import Operation

    return Operation.OVERWRITE


def _discard(table: Table, files: list[DataFile]) -> None:
    for data_file in files:
        try:
            table.io.delete(data_file.file_path)
        except Exception:  # best effort: an orphan sweep removes what is left
            continue


def rewrite_manifests(
    catalog: Catalog, identifier: str, *, branch: str = MAIN, context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Rewrite a branch head's data manifests into one per partition spec, in one ``replace`` commit.

    Many small appends leave one manifest each; planning a scan opens every one of them.

    Returns:
        ``manifests_before``, ``manifests_after`` and ``snapshot_id`` (unchanged when there was nothing
        to do: one manifest per spec already).

    Raises:
        NotFound: No such table or branch.
        Conflict: Concurrent writers kept winning; nothing was changed.
    """
    validate_branch_name(branch)
    props = snapshot_properties("rewrite_manifests", context)

    def attempt() -> dict[str, Any]:
        from .producers import RewriteManifests

        table = load_table(catalog, identifier, branch)
        head = _head(table, identifier, branch)
        snapshot = table.metadata.snapshot_by_id(head) if head is not None else None
        if snapshot is None:
            return {"manifests_before": 0, "manifests_after": 0, "snapshot_id": head}
        manifests = snapshot.manifests(table.io)
        data_specs = {m.partition_spec_id for m in manifests if m.content.value == 0}
        data_count = sum(1 for m in manifests if m.content.value == 0)
        report = {"manifests_before": len(manifests), "manifests_after": len(manifests), "snapshot_id": head}
        if data_count <= len(data_specs):
            return report
        tx = transaction(table)
        producer = RewriteManifests(
            operation=_overwrite(), transaction=tx, io=table.io, branch=branch, snapshot_properties=props
        )
        producer.commit()
        tx.commit_transaction()
        new_head = head_snapshot_id(load_table(catalog, identifier, branch), branch)
        report.update(manifests_after=len(manifests) - data_count + len(data_specs), snapshot_id=new_head)
        return report

    return retrying(attempt, f"rewrite the manifests of {identifier}")
