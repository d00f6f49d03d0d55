"""Rebasing a branch before it is published: its SQL transforms replayed on the new main.

Publishing (:func:`ratatouille.branches.publishing.publish`) is refused when main moved since the fork on
any table, unless ``rebase=True`` and every write on the branch was a SQL transform (recorded with its SQL
in the snapshot), which are then replayed on the new main here. The branch moves only once every transform
has run, all or nothing like a publish.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import TYPE_CHECKING

from ..catalog import load_table
from ..errors import Conflict
from ..tables.commit import PROPERTY_PREFIX, manage_snapshots, unrecorded_parameters
from .hidden import REBASE_SUFFIX
from .listing import BranchTable, tables_on
from .publishing import Step, move_all
from .refs import ancestors

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from ..session import Lakehouse

#: Operations (recorded in snapshot summaries) that rewrite files without changing rows.
REWRITES = ("compact", "rewrite_manifests")


def _branch_writes(table: Table, state: BranchTable) -> list[tuple[int, int, dict[str, str]]]:
    """(timestamp_ms, snapshot_id, summary) of the branch's own snapshots, oldest first."""
    lineage = ancestors(table, state.head)
    own = lineage[: state.ahead]
    out = []
    for sid in own:
        snap = table.metadata.snapshot_by_id(sid)
        assert snap is not None
        summary = snap.summary.additional_properties if snap.summary else {}
        out.append((snap.timestamp_ms, sid, summary))
    return sorted(out)


def rebase_branch(lh: Lakehouse, branch: str, states: list[BranchTable]) -> list[str]:
    """Replay the branch's SQL transforms on the current main, in the order they were made.

    Returns:
        The tables the replayed transforms wrote.

    Raises:
        Conflict: A write cannot be replayed, or a replay fails on the current main (naming it); the
            branch is then left exactly as it was.
    """
    from ..session import Lakehouse as Session

    replay: list[tuple[int, str, dict[str, str]]] = []
    for s in states:
        table = load_table(lh.catalog, s.physical)
        for ts, sid, summary in _branch_writes(table, s):
            op = summary.get(f"{PROPERTY_PREFIX}operation", "")
            if op in REWRITES:  # compaction changed files, not rows: nothing to replay
                continue
            sql = summary.get(f"{PROPERTY_PREFIX}sql")
            if not op.startswith("transform:") or not sql:
                raise Conflict(
                    f"cannot rebase {branch!r}: snapshot {sid} of {s.table} was written by "
                    f"{op or 'another writer'}, which cannot be replayed (only SQL transforms can). "
                    "Start a new branch from the current main and redo the work there"
                )
            if unrecorded := unrecorded_parameters(summary):
                raise Conflict(
                    f"cannot rebase {branch!r}: snapshot {sid} of {s.table} is a transform whose parameter "
                    f"values ({', '.join(unrecorded)}) were not recorded, so it cannot be replayed. Set "
                    "RAT_RECORD_PARAMETERS=1 (record_parameters in ratatouille.toml) to record them in "
                    "future transforms; for this branch, start a new one from the current main and redo it"
                )
            replay.append((ts, s.table, summary))
    replay.sort(key=lambda r: r[0])
    # Replayed on a temporary branch made from main's heads: the branch itself moves only once every
    # transform has run, so a replay that fails leaves the branch's work exactly as it was.
    scratch = f"{branch}{REBASE_SUFFIX}{uuid.uuid4().hex[:8]}"
    try:
        for s in states:
            if s.main_head is not None:
                table = load_table(lh.catalog, s.physical)
                manage_snapshots(table).create_branch(s.main_head, scratch).commit()
        worker = Session(lh.settings)
        worker.use_branch(scratch)
        worker.context = dict(lh.context)
        try:
            for _, target, summary in replay:
                keys = summary.get(f"{PROPERTY_PREFIX}merge_keys") or None
                params = json.loads(summary.get(f"{PROPERTY_PREFIX}params", "null"))
                mode = summary[f"{PROPERTY_PREFIX}operation"].split(":", 1)[1]
                sql = summary[f"{PROPERTY_PREFIX}sql"]
                try:
                    split = keys.split(",") if keys else None
                    worker.transform(sql, target, mode=mode, merge_keys=split, parameters=params)
                except Exception as e:
                    raise Conflict(
                        f"cannot rebase {branch!r}: the transform that wrote {target} fails on the current "
                        f"main ({type(e).__name__}: {e}); the branch is unchanged. Its SQL: {sql}"
                    ) from e
        finally:
            worker.close()
        replayed = {state.table: state.head for state in tables_on(lh, scratch)}
        steps = [
            Step(s.table, s.head, replayed[s.table], ref=branch, physical=s.staged)
            for s in states
            if s.table in replayed
        ]
        move_all(lh, [step for step in steps if step.head != step.previous], f"rebasing {branch!r}")
    finally:
        _drop_quietly(lh, scratch)
    return sorted({t for _, t, _ in replay})


def _drop_quietly(lh: Lakehouse, branch: str) -> None:
    """Remove a temporary branch from every table that has it (what cannot be removed now stays)."""
    with contextlib.suppress(Exception):
        for state in tables_on(lh, branch):
            with contextlib.suppress(Exception):
                manage_snapshots(load_table(lh.catalog, state.physical)).remove_branch(branch).commit()
