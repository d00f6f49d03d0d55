"""Dev mode: one branch name across all tables, isolated reads and writes, safe publishing.

A branch exists per table as an Iceberg branch ref; a table joins a branch when it is first written on it
(branched from main's head at that moment) or when it is named in :func:`start`. Nothing else is stored:
the fork point of a table is the newest snapshot of its branch that is also in main's history.

Publishing (:func:`publish`) fast-forwards main to the branch head on every table of the branch. It is
refused when main moved since the fork on any table, unless ``rebase=True`` and every write on the branch
was a SQL transform (recorded with its SQL in the snapshot), which are then replayed on the new main.
Publishing several tables is all-or-nothing: all are checked first, and if anything still fails midway (a
concurrent commit, a catalog error, an interrupt) the tables already moved are moved back; a table that
cannot be moved back is named in the error (:class:`~ratatouille.errors.Incomplete`) with its snapshot ids.
A table created on the branch is renamed into place by the same publish (:mod:`.hidden`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import drop_table, load_table
from ..errors import Conflict, Incomplete, InvalidInput, NotFound
from ..reading import MAIN, head_snapshot_id
from ..sqltext import TableRef, validate_branch_name
from ..tables.commit import PROPERTY_PREFIX, unrecorded_parameters
from .hidden import REBASE_SUFFIX, drop_empty_namespaces, make_room, owner_branch, rename_back
from .listing import BranchTable, all_tables, tables_on
from .refs import ancestors, set_ref

#: Operations (recorded in snapshot summaries) that rewrite files without changing rows.
REWRITES = ("compact", "rewrite_manifests")

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from ..session import Lakehouse


def _check_dev_name(name: str) -> str:
    validate_branch_name(name)
    if name == MAIN:
        raise InvalidInput("'main' is the published branch: start a dev branch with another name")
    return name


def start(lh: Lakehouse, name: str, tables: list[str] | None = None) -> list[str]:
    """Make ``name`` the session's branch; branch the given tables from main now (others on first write).

    Returns:
        The tables branched now.
    """
    _check_dev_name(name)
    branched = []
    for ident in tables or []:
        ref = TableRef.parse(ident)
        table = load_table(lh.catalog, ref.identifier)
        if name in table.metadata.refs:
            continue
        main_head = head_snapshot_id(table, MAIN)
        if main_head is None:
            raise InvalidInput(
                f"table {ref.identifier} has no data on main yet: it joins the branch on first write"
            )
        table.manage_snapshots().create_branch(main_head, name).commit()
        branched.append(ref.identifier)
    lh.use_branch(name)
    return branched


def drop(lh: Lakehouse, name: str) -> list[str]:
    """Remove ``name`` from every table; the session returns to main if it was on it.

    The tables created on the branch (not published) are dropped with their files.

    Returns:
        The tables the branch was removed from.
    """
    _check_dev_name(name)
    removed = []
    for state in tables_on(lh, name):
        if state.staged is not None and owner_branch(name) == name:
            drop_table(lh.catalog, state.staged, purge=True)
        else:
            load_table(lh.catalog, state.physical).manage_snapshots().remove_branch(name).commit()
        removed.append(state.table)
    if lh.branch == name:
        lh.use_branch(None)
    if not removed:
        raise NotFound(f"no table has a branch {name!r}")
    return removed


def publish(lh: Lakehouse, branch: str, rebase: bool = False) -> dict[str, Any]:
    """Fast-forward main to the branch on every table of the branch, all or nothing.

    Any failure midway (a concurrent commit, a catalog or network error, an interrupt) moves the tables
    already published back to their previous main before the error is raised.

    Raises:
        Conflict: Main moved on some tables (names them) and no rebase was asked or possible, or a
            concurrent commit or another failure interrupted publishing (then nothing was changed).
        Incomplete: Publishing failed and some tables could not be moved back (the message names them,
            with their snapshot ids).
    """
    _check_dev_name(branch)
    states = tables_on(lh, branch)
    if not states:
        raise NotFound(f"no table has a branch {branch!r}: nothing to publish")
    moved = [s.table for s in states if s.main_moved]
    rebased: list[str] = []
    if moved:
        if not rebase:
            raise Conflict(
                f"cannot publish {branch!r}: main moved since the branch was made on {', '.join(moved)}. "
                f"Call dev_merge(rebase=True) to replay the branch's SQL transforms on the new main, "
                f"or start a new branch from the current main and redo the work there"
            )
        rebased = _rebase(lh, branch, states)
        states = tables_on(lh, branch)
    steps = [
        _Step(s.table, s.main_head, s.head, physical=s.staged, rename=s.staged is not None)
        for s in states
        if s.head != s.main_head or s.staged is not None
    ]
    made = make_room(lh.catalog, branch, [step.table for step in steps if step.rename])
    try:
        _move_all(lh, steps, f"publishing {branch!r}")
    except BaseException:
        drop_empty_namespaces(lh.catalog, made)
        raise
    published = {step.table: step.head for step in steps}
    return {"branch": branch, "published": published, "rebased": rebased}


def _move_all(lh: Lakehouse, steps: list[_Step], what: str) -> None:
    """Move one ref on several tables, all or nothing (see :func:`publish`).

    On the SQL catalogs every move (and rename) is one database transaction, so no reader ever sees part
    of it and a process killed midway changes nothing; other catalogs move table by table and undo.
    """
    from pyiceberg.exceptions import CommitFailedException

    from ..errors import RatError
    from ..tables.atomic import supports_atomic

    if supports_atomic(lh.catalog):
        _move_together(lh, steps, what)
        return
    attempted: list[_Step] = []
    try:
        for step in steps:
            attempted.append(step)  # before the commit: a failed commit may still have landed
            if step.head != step.previous:
                set_ref(load_table(lh.catalog, step.where), step.ref, step.head, expected=step.previous)
            if step.rename:  # a table created on the branch: one catalog update puts it in place
                assert step.physical is not None
                lh.catalog.rename_table(step.physical, step.table)
    except BaseException as e:
        failed = attempted[-1].table if attempted else "?"
        restored, left = _undo(lh, attempted)
        if left:
            raise Incomplete(
                _incomplete_message(what, failed, e, restored, left),
                changed={step.table: step.head for step, _ in left},
                restored=restored,
            ) from e
        if isinstance(e, CommitFailedException):
            raise Conflict(
                f"{what} was interrupted by a concurrent commit on {failed}; no table was changed, try again"
            ) from e
        if isinstance(e, RatError) or not isinstance(e, Exception):  # clear already, or an interrupt
            raise
        raise Conflict(
            f"{what} failed on {failed} ({type(e).__name__}: {e}); no table was changed, try again"
        ) from e


def _move_together(lh: Lakehouse, steps: list[_Step], what: str) -> None:
    """Every step in one catalog transaction (:func:`ratatouille.tables.atomic.commit_together`)."""
    from dataclasses import replace

    from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError

    from ..tables.atomic import TableCommit, commit_together, ref_commit

    commits = []
    for step in steps:
        table = load_table(lh.catalog, step.where)
        commit = TableCommit(table, (), ())
        if step.head != step.previous:
            commit = ref_commit(table, step.ref, step.head, expected=step.previous)
        if step.rename:
            namespace, name = step.table.split(".")
            commit = replace(commit, rename_to=(namespace, name))
        commits.append(commit)
    try:
        commit_together(lh.catalog, commits)
    except CommitFailedException as e:
        raise Conflict(
            f"{what} was interrupted by a concurrent commit; no table was changed, try again"
        ) from e
    except TableAlreadyExistsError as e:
        raise Conflict(
            f"{what}: a table of the branch was created on main meanwhile ({e}); nothing changed"
        ) from e
    except Exception as e:
        # The transaction was rolled back, unless the connection dropped while the database committed it:
        # the tables tell which.
        landed = [step.table for step in steps if _landed(lh, step)]
        if len(landed) == len(steps):
            return
        if landed:  # cannot happen with one transaction; said plainly if a catalog ever does it
            raise Incomplete(
                f"{what} failed ({type(e).__name__}: {e}) with only {', '.join(landed)} changed",
                changed={step.table: step.head for step in steps if step.table in landed},
                restored=[],
            ) from e
        raise Conflict(f"{what} failed ({type(e).__name__}: {e}); no table was changed, try again") from e


def _landed(lh: Lakehouse, step: _Step) -> bool:
    from ..catalog import table_exists

    if step.rename and not table_exists(lh.catalog, step.table):
        return False
    table = load_table(lh.catalog, step.table if step.rename else step.where)
    return head_snapshot_id(table, step.ref) == step.head


@dataclass(frozen=True)
class _Step:
    """One table's ref to move from ``previous`` to ``head`` (main, when publishing).

    ``physical`` is the hidden name of a table created on the branch, renamed to ``table`` when
    ``rename`` (after its ref moved).
    """

    table: str
    previous: int | None
    head: int
    ref: str = MAIN
    physical: str | None = None
    rename: bool = False

    @property
    def where(self) -> str:
        """The name the catalog knows the table by before the step."""
        return self.physical or self.table


#: Attempts to move one table back after a failed publish (a catalog hiccup often passes).
UNDO_ATTEMPTS = 3


def _undo(lh: Lakehouse, attempted: list[_Step]) -> tuple[list[str], list[tuple[_Step, str]]]:
    """Move main back on every attempted table, newest first.

    Returns:
        The tables whose main is back where it was, and (step, reason) for those that could not be
        put back (their main is, or may be, still at the branch head).
    """
    import time

    restored: list[str] = []
    left: list[tuple[_Step, str]] = []
    for step in reversed(attempted):
        for attempt in range(UNDO_ATTEMPTS):
            try:
                _restore(lh, step)
                restored.append(step.table)
                break
            except Conflict as e:  # main moved on top of the publish: moving it back would lose that
                left.append((step, str(e)))
                break
            except Exception as e:
                if attempt == UNDO_ATTEMPTS - 1:
                    left.append((step, f"{type(e).__name__}: {e}"))
                else:
                    time.sleep(0.1 * 2**attempt)
    return sorted(restored), left


def _restore(lh: Lakehouse, step: _Step) -> None:
    if step.rename:
        assert step.physical is not None
        rename_back(lh.catalog, step.table, step.physical)
        # Hidden again, the table is not main's whatever its main ref says: resetting that ref is tidying.
        with contextlib.suppress(Exception):
            _restore(lh, _Step(step.table, step.previous, step.head, step.ref, step.physical))
        return
    table = load_table(lh.catalog, step.where)
    now = head_snapshot_id(table, step.ref)
    if now == step.previous or now is None or step.head not in ancestors(table, now):
        return  # the move did not land (or a concurrent writer replaced it): nothing of ours there
    if now != step.head:
        raise Conflict(f"{step.ref} moved to snapshot {now} after it was moved")
    if step.previous is None:
        table.manage_snapshots().remove_branch(step.ref).commit()  # guarded: still at step.head
    else:
        set_ref(table, step.ref, step.previous, expected=step.head)


def _incomplete_message(
    what: str, failed: str, error: BaseException, restored: list[str], left: list[tuple[_Step, str]]
) -> str:
    def was(step: _Step) -> str:
        return f"it was {step.previous}" if step.previous is not None else f"{step.ref} did not exist before"

    stuck = "; ".join(
        f"{step.table}: {step.ref} is (or may be) at snapshot {step.head}, {was(step)} "
        f"(could not move it back: {reason})"
        for step, reason in left
    )
    back = f"; moved back: {', '.join(restored)}" if restored else ""
    return (
        f"{what} failed on {failed} ({type(error).__name__}: {error}) and could not be undone everywhere. "
        f"Still changed: {stuck}{back}. Point each ref back to its previous snapshot with "
        "ratatouille.branches.refs.set_ref(table, ref, previous, expected=current), or try again"
    )


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


def _rebase(lh: Lakehouse, branch: str, states: list[BranchTable]) -> list[str]:
    """Replay the branch's SQL transforms on the current main, in the order they were made.

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
                table.manage_snapshots().create_branch(s.main_head, scratch).commit()
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
            _Step(s.table, s.head, replayed[s.table], ref=branch, physical=s.staged)
            for s in states
            if s.table in replayed
        ]
        _move_all(lh, [step for step in steps if step.head != step.previous], f"rebasing {branch!r}")
    finally:
        _drop_quietly(lh, scratch)
    return sorted({t for _, t, _ in replay})


def _drop_quietly(lh: Lakehouse, branch: str) -> None:
    """Remove a temporary branch from every table that has it (what cannot be removed now stays)."""
    with contextlib.suppress(Exception):
        for state in tables_on(lh, branch):
            with contextlib.suppress(Exception):
                load_table(lh.catalog, state.physical).manage_snapshots().remove_branch(branch).commit()


def expire(
    lh: Lakehouse, older_than: dt.timedelta | dt.datetime = dt.timedelta(days=7), table: str | None = None
) -> dict[str, int]:
    """Expire snapshots older than a time on every branch (heads and fork points are kept).

    The one expiry primitive, :func:`ratatouille.tables.expiry.expire`, with ``retain_last=1``: it also
    deletes the files only the expired snapshots used and keeps the ingestion registry's lineage.

    Returns:
        Snapshots expired, per table.
    """
    from ..ingest.registry import Registry
    from ..tables.expiry import cutoff_of
    from ..tables.expiry import expire as expire_table

    cutoff = cutoff_of(older_than)
    idents = [TableRef.parse(table).identifier] if table else all_tables(lh)
    registry = Registry(lh.settings, lh.catalog)
    counts: dict[str, int] = {}
    for ident in idents:
        done = expire_table(lh.catalog, ident, older_than=cutoff, retain_last=1, lineage=registry)
        counts[ident] = int(done["expired"])
    return counts
