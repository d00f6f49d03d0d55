"""The invariants every write must keep, whatever fault hit it, as reusable checks.

Each check returns the violations it found (empty: held) and counts itself in a :class:`Checks`. They
read through pyiceberg and the catalog only (no engine), so a process that must not start chDB can run
them too.

* head: a branch's head is the snapshot before the write or the write's own (one commit on top of it,
  or a snapshot known in advance, such as the branch head a publish moves main to);
* files: every manifest list, manifest and live data file that any snapshot of the table references exists;
* rows: the rows (as a multiset) are the model's rows for the state the head is in: none lost or
  duplicated (row-level delete files applied);
* delete files: a head has as many delete files as the model's state says (a compaction drops them);
* registry: the files the ingestion registry says are in a table are exactly those whose rows are;
* listing: main lists no table that exists only on a branch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table

    from ratatouille.sdk import Rat

OLD, NEW = "old", "new"


@dataclass
class Checks:
    """Invariant checks run and violations found."""

    run: int = 0
    violations: list[str] = field(default_factory=list)

    def check(self, found: Iterable[str]) -> list[str]:
        """Count one check and keep its violations."""
        self.run += 1
        out = list(found)
        self.violations.extend(out)
        return out


def multiset(rows: Iterable[Sequence[Any]]) -> Counter[tuple[Any, ...]]:
    """Rows as a multiset of tuples."""
    return Counter(tuple(r) for r in rows)


def head_of(table: Table, branch: str = "main") -> int | None:
    """A branch's head snapshot id (None: no such branch)."""
    ref = table.metadata.refs.get(branch)
    return None if ref is None else ref.snapshot_id


def rows_at(table: Table, snapshot_id: int | None, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of a snapshot (only ``columns``, in that order); none for no snapshot.

    Row-level delete files are applied: position deletes by pyiceberg's reader, equality deletes (which
    pyiceberg does not read) by ratatouille's Arrow code, one data file at a time.
    """
    if snapshot_id is None:
        return []
    data = _read(table, snapshot_id)
    present = [c for c in columns if c in data.column_names]
    picked = data.select(present).to_pylist()
    return [tuple(r.get(c) for c in columns) for r in picked]


def _read(table: Table, snapshot_id: int) -> pa.Table:
    import pyarrow as pa
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan

    from ratatouille.tables.deletes import scan_tasks, without_equality_deleted

    tasks, deletes = scan_tasks(table, snapshot_id)
    if deletes is None:
        return table.scan(snapshot_id=snapshot_id).to_arrow()
    scan = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue())
    parts = [without_equality_deleted(table, scan.to_table([t]), deletes.for_file(t.file)[1]) for t in tasks]
    return pa.concat_tables(parts) if parts else table.schema().as_arrow().empty_table()


def delete_files_at(table: Table, snapshot_id: int | None) -> list[str]:
    """The live row-level delete files of a snapshot."""
    from pyiceberg.manifest import DataFileContent

    snap = table.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snap is None:
        return []
    return [
        entry.data_file.file_path
        for manifest in snap.manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
        if entry.data_file.content != DataFileContent.DATA
    ]


def delete_files_match(table: Table, branch: str, expected: int, label: str) -> list[str]:
    """The branch head has ``expected`` delete files (a compaction leaves none, a failed one all)."""
    found = delete_files_at(table, head_of(table, branch))
    if len(found) == expected:
        return []
    return [f"{table.name()[-1]}@{branch} has {len(found)} delete files, the {label} state {expected}"]


def state_of(
    table: Table, branch: str, old_head: int | None, new_head: int | None = None
) -> tuple[str | None, list[str]]:
    """Which state the head is in: ``old``, ``new`` (``new_head``, or one commit on ``old_head``), or None.

    Returns:
        (state, violations).
    """
    now = head_of(table, branch)
    if now == old_head:
        return OLD, []
    if new_head is not None:
        if now == new_head:
            return NEW, []
        return None, [f"{branch} head {now} is neither the old {old_head} nor the new {new_head}"]
    snap = table.metadata.snapshot_by_id(now) if now is not None else None
    if snap is not None and snap.parent_snapshot_id == old_head:
        return NEW, []
    parent = None if snap is None else snap.parent_snapshot_id
    return None, [f"{branch} head {now} (parent {parent}) is neither the old {old_head} nor one commit on it"]


def missing_files(table: Table) -> list[str]:
    """Every file some snapshot of the table references that does not exist."""
    io = table.io
    seen: set[str] = set()
    missing: list[str] = []

    def exists(path: str, what: str, sid: int) -> bool:
        if path in seen:
            return False  # checked already (and its entries walked, when it is a manifest)
        seen.add(path)
        if io.new_input(path).exists():
            return True
        missing.append(f"snapshot {sid} references a missing {what}: {path}")
        return False

    for snap in table.metadata.snapshots:
        if not exists(snap.manifest_list, "manifest list", snap.snapshot_id):
            continue
        for manifest in snap.manifests(io):
            if not exists(manifest.manifest_path, "manifest", snap.snapshot_id):
                continue
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
                exists(entry.data_file.file_path, "data file", snap.snapshot_id)
    return missing


def rows_match(
    table: Table, branch: str, columns: Sequence[str], expected: Iterable[Sequence[Any]], label: str
) -> list[str]:
    """The branch's rows equal the model's (as multisets); the violation names what was lost or doubled."""
    got = multiset(rows_at(table, head_of(table, branch), columns))
    want = multiset(expected)
    if got == want:
        return []
    lost = want - got
    extra = got - want
    return [
        f"{table.name()[-1]}@{branch} rows differ from the {label} model: "
        f"{sum(lost.values())} lost (e.g. {list(lost)[:3]}), "
        f"{sum(extra.values())} extra (e.g. {list(extra)[:3]})"
    ]


def registry_agrees(rat: Rat, identifier: str, branch: str = "main") -> list[str]:
    """The files the registry counts as ingested on ``branch`` are exactly the files the rows came from."""
    from ratatouille.catalog import load_table
    from ratatouille.ingest.lineage import UNSETTLED
    from ratatouille.ingest.registry import Registry

    registry = Registry(rat.session.settings, rat.session.catalog)
    table = load_table(rat.session.catalog, identifier)
    history = registry.history(identifier)
    hashes = sorted(set(history.loc[history.status == "ok", "content_hash"]))
    recorded = {row["source"] for row in registry.ingested(identifier, table, branch, hashes).values()}
    # A claim whose commit landed before its process died is in the snapshot summary: the registry
    # counts it as ingested when it next meets the file (see ratatouille/ingest/registry.py).
    committed = _committed_claims(table, head_of(table, branch))
    unsettled = history.loc[history.status.isin(UNSETTLED)]
    recorded |= {str(r["source"]) for _, r in unsettled.iterrows() if int(r["id"]) in committed}
    data = table.scan(snapshot_id=head_of(table, branch)).to_arrow() if head_of(table, branch) else None
    present = set() if data is None else set(data.column("_source_file").to_pylist())
    out = []
    if recorded - present:
        out.append(f"registry says {sorted(recorded - present)} are in {identifier}; no rows came from them")
    if present - recorded:
        out.append(f"{identifier} holds rows of {sorted(present - recorded)}; the registry does not know it")
    return out


def _committed_claims(table: Table, head: int | None) -> set[int]:
    from ratatouille.branches.refs import ancestors
    from ratatouille.ingest.lineage import carried_claims

    out: set[int] = set()
    for sid in ancestors(table, head):
        snap = table.metadata.snapshot_by_id(sid)
        if snap is not None:
            out.update(claim_id for claim_id, _ in carried_claims(snap))
    return out


def lists_no_branch_only(rat: Rat, namespace: str, branch_only: Iterable[str]) -> list[str]:
    """Main's table listing shows none of ``branch_only`` (tables that exist on a branch only)."""
    from ratatouille.reading import MAIN

    previous = rat.session.branch
    rat.session.use_branch(MAIN)
    try:
        listed = set(rat.ice_tables(namespace))
    finally:
        rat.session.use_branch(previous)
    shown = sorted(t for t in branch_only if t.split(".")[-1] in listed)
    return [f"main lists the branch-only table {t}" for t in shown]
