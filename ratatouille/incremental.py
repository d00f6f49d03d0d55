"""Incremental reads: ``{ns.t@new}`` reads only the rows a write's target has not consumed yet.

The position (the source snapshot read, per source table) is kept in the target's snapshot summary
(:data:`CONSUMED`), committed with the data: a run that fails or is never committed consumes nothing, and
a run that commits moves the position with its rows, so no row is processed twice.

What is new is found by walking the source's history from its head back to the consumed snapshot:

* ``append``: the data files the snapshot added hold new rows (read as written, even when a later
  compaction merged them into other files: their rows are still in the table, once);
* ``replace`` (compaction, manifest rewrite): the same rows in other files, nothing new;
* ``overwrite`` / ``delete``: rows were changed or removed, which no append-only read can deliver
  exactly: :class:`~ratatouille.errors.Conflict`, unless the run asked for a full read
  (``on_rewrite="full"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import Conflict, InvalidInput
from .reading import ReadPlan, ResolvedTable, plan_read
from .tables.commit import PROPERTY_PREFIX

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyiceberg.table.snapshots import Snapshot

#: The snapshot summary property holding a target's positions: JSON ``{"ns.t": <snapshot id>}``.
CONSUMED = f"{PROPERTY_PREFIX}consumed"
#: What a run does when a source was rewritten since its position.
ON_REWRITE = ("error", "full")


@dataclass
class Incremental:
    """What ``@new`` references of one write read from, and the positions the write will record.

    Attributes:
        target: The write's target ``ns.t``.
        branch: The branch the write goes to.
        on_rewrite: ``error`` (a rewritten source fails the run) or ``full`` (it is read in full).
        target_head: The target's snapshot the positions were read from (the write must commit on it).
        previous: The positions recorded on ``target_head``.
        consumed: The positions of the sources read by this run (source ``ns.t`` -> snapshot id).
        full: True when some source was read in full because it was rewritten (``on_rewrite="full"``).
        read_all: Read every ``@new`` source in full (the run after one was found rewritten).
    """

    target: str
    branch: str
    on_rewrite: str = "error"
    target_head: int | None = None
    previous: dict[str, int] = field(default_factory=dict)
    consumed: dict[str, int] = field(default_factory=dict)
    full: bool = False
    read_all: bool = False

    @classmethod
    def load(cls, catalog: Catalog, target: str, branch: str, on_rewrite: str = "error") -> Incremental:
        """The positions on the target's head on ``branch`` (main's head for a branch not created yet)."""
        from .tables.writing import _load_target, _read_head

        if on_rewrite not in ON_REWRITE:
            raise InvalidInput(f"unknown on_rewrite {on_rewrite!r}: use one of {', '.join(ON_REWRITE)}")
        table = _load_target(catalog, target, branch)
        if table is None:
            return cls(target, branch, on_rewrite)
        head = _read_head(table.metadata, branch)
        snap = None if head is None else table.metadata.snapshot_by_id(head)
        return cls(target, branch, on_rewrite, head, positions_of(snap))

    @property
    def recorded(self) -> str:
        """The positions the write records: the previous ones moved by this run."""
        return json.dumps({**self.previous, **self.consumed}, sort_keys=True)

    @property
    def unchanged(self) -> bool:
        """True when the run moves no position (every source read is where the target left it)."""
        return all(self.previous.get(source) == head for source, head in self.consumed.items())

    def plan(self, resolved: ResolvedTable) -> ReadPlan:
        """The files of ``resolved`` (a source at its head) that hold rows the target has not consumed."""
        source = resolved.ref.identifier
        if source == self.target:
            raise InvalidInput(
                f"{{{source}@new}} reads the table this write goes to: '@new' is for the tables a "
                "transform reads from"
            )
        head = resolved.snapshot_id
        if head is None:
            return ReadPlan(resolved.ref, None, "AlwaysTrue()", (), 0)
        self.consumed[source] = head
        since = self.previous.get(source)
        if since is None or self.read_all:
            return plan_read(resolved)  # never consumed: everything
        try:
            files = new_files(resolved.table, head, since, source)
        except Conflict:
            if self.on_rewrite != "full":
                raise
            self.full = True
            return plan_read(resolved)
        label = f"new since {since}"
        return ReadPlan(resolved.ref, head, label, files, len(plan_read(resolved).files))


def positions_of(snap: Snapshot | None) -> dict[str, int]:
    """The positions recorded in a snapshot's summary ({} when none)."""
    if snap is None or snap.summary is None:
        return {}
    text = snap.summary.additional_properties.get(CONSUMED)
    if not text:
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(values, dict):
        return {}
    return {str(k): int(v) for k, v in values.items() if isinstance(v, int)}


def new_files(table: Table, head: int, since: int, source: str) -> tuple[str, ...]:
    """The data files appended to ``table`` after snapshot ``since``, up to ``head`` (its ancestor).

    Raises:
        Conflict: ``since`` is not an ancestor of ``head`` (expired, or another branch), or a snapshot in
            between changed or removed rows.
    """
    from pyiceberg.table.snapshots import Operation

    meta = table.metadata
    way_out = (
        f"either rebuild the target in full (run it once with on_rewrite='full', which reads all of "
        f"{source}, or drop the target and run again) or read {source} without '@new'"
    )
    chain: list[Snapshot] = []
    snap = meta.snapshot_by_id(head)
    while snap is not None and snap.snapshot_id != since:
        chain.append(snap)
        snap = None if snap.parent_snapshot_id is None else meta.snapshot_by_id(snap.parent_snapshot_id)
    if snap is None:
        from .tables.policy import policy_of

        keep = policy_of(table).max_snapshots
        raise Conflict(
            f"cannot read the new rows of {source}: the snapshot the target last consumed ({since}) is not "
            f"in the history of {source}'s head (expired, or on another branch); {way_out}. To keep it "
            f"from happening, consume more often than {source} is expired: its writes keep its last {keep} "
            f"snapshots (rat.ice_policy({source!r}, max_snapshots=...)) and ice_expire its policy's"
        )
    files: list[str] = []
    for step in reversed(chain):
        operation = step.summary.operation if step.summary is not None else None
        if operation == Operation.REPLACE:
            continue  # the same rows in other files
        if operation != Operation.APPEND:
            name = operation.value if operation is not None else "unknown"
            raise Conflict(
                f"cannot read the new rows of {source}: its snapshot {step.snapshot_id} ({name}) changed or "
                f"removed rows the target has consumed; {way_out}"
            )
        files.extend(added_files(table, step))
    return tuple(files)


def added_files(table: Table, snap: Snapshot) -> list[str]:
    """The data files a snapshot added (from its own manifests' ``ADDED`` entries)."""
    from pyiceberg.manifest import ManifestContent, ManifestEntryStatus

    out: list[str] = []
    for manifest in snap.manifests(table.io):
        if manifest.added_snapshot_id != snap.snapshot_id:
            continue  # carried over from earlier snapshots
        if manifest.content != ManifestContent.DATA:
            raise InvalidInput(
                f"table {'.'.join(table.name())} has row-level delete files (written by another engine), "
                "which incremental reads do not support"
            )
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if entry.status == ManifestEntryStatus.ADDED and entry.snapshot_id == snap.snapshot_id:
                out.append(entry.data_file.file_path)
    return out


def delivered_rows(catalog: Catalog, previous: dict[str, int], current: dict[str, int]) -> dict[str, int]:
    """The rows ``@new`` reads delivered when positions moved from ``previous`` to ``current``.

    Per source: the records its ``append`` snapshots added after the previous position, up to the current
    one (from the snapshot summaries); every record of the current snapshot when the source had no
    previous position, or when a snapshot in between changed or removed rows (the run read it in full).
    A source whose history cannot be read is left out.
    """
    from pyiceberg.table.snapshots import Operation

    from .catalog import load_table

    out: dict[str, int] = {}
    for source, head in sorted(current.items()):
        since = previous.get(source)
        if since == head:
            out[source] = 0
            continue
        try:
            meta = load_table(catalog, source).metadata
        except Exception:  # dropped or renamed since: nothing to count
            continue
        snap = meta.snapshot_by_id(head)
        if snap is None:
            continue
        added, full = 0, since is None
        step: Snapshot | None = snap
        while step is not None and step.snapshot_id != since:
            summary = step.summary
            operation = summary.operation if summary is not None else None
            if operation == Operation.APPEND and summary is not None:
                added += int(summary.additional_properties.get("added-records", 0) or 0)
            elif operation != Operation.REPLACE:
                full = True
            parent = step.parent_snapshot_id
            step = None if parent is None else meta.snapshot_by_id(parent)
        if step is None:
            full = True
        if full:
            summary = snap.summary
            total = summary.additional_properties.get("total-records", 0) if summary is not None else 0
            added = int(total or 0)
        out[source] = added
    return out
