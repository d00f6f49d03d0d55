"""Publishing a dev branch: main fast-forwarded to the branch on every table of it, all or nothing.

Publishing (:func:`publish`) fast-forwards main to the branch head on every table of the branch. It is
refused when main moved since the fork on any table, unless ``rebase=True`` and every write on the branch
was a SQL transform (recorded with its SQL in the snapshot), which are then replayed on the new main
(:mod:`.rebase`). Publishing several tables is all-or-nothing: all are checked first. On the SQL catalogs
every move is one database transaction (:func:`ratatouille.tables.atomic.commit_together`): nothing is
seen half done, even if the process dies. Elsewhere the tables move one by one, and if anything fails
midway (a concurrent commit, a catalog error, an interrupt) the tables already moved are moved back; a table
that cannot be moved back is named in the error (:class:`~ratatouille.errors.Incomplete`) with its snapshot
ids. A table created on the branch is renamed into place by the same publish (:mod:`.hidden`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import load_table
from ..errors import Conflict, Incomplete, NotFound
from ..reading import MAIN, head_snapshot_id
from .dev import check_dev_name
from .hidden import drop_empty_namespaces, make_room, rename_back
from .listing import tables_on
from .refs import ancestors, set_ref

if TYPE_CHECKING:
    from ..session import Lakehouse


def publish(lh: Lakehouse, branch: str, rebase: bool = False) -> dict[str, Any]:
    """Fast-forward main to the branch on every table of the branch, all or nothing.

    Any failure midway (a concurrent commit, a catalog or network error, an interrupt) leaves every table
    as it was before the error is raised: one transaction on the SQL catalogs, moves undone elsewhere.

    Raises:
        Conflict: Main moved on some tables (names them) and no rebase was asked or possible, or a
            concurrent commit or another failure interrupted publishing (then nothing was changed).
        Incomplete: Publishing failed and some tables could not be moved back (the message names them,
            with their snapshot ids).
    """
    check_dev_name(branch)
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
        from .rebase import rebase_branch  # not at the top: rebase moves its refs with move_all, below

        rebased = rebase_branch(lh, branch, states)
        states = tables_on(lh, branch)
    steps = [
        Step(s.table, s.main_head, s.head, physical=s.staged, rename=s.staged is not None)
        for s in states
        if s.head != s.main_head or s.staged is not None
    ]
    made = make_room(lh.catalog, branch, [step.table for step in steps if step.rename])
    try:
        move_all(lh, steps, f"publishing {branch!r}")
    except BaseException:
        drop_empty_namespaces(lh.catalog, made)
        raise
    published = {step.table: step.head for step in steps}
    return {"branch": branch, "published": published, "rebased": rebased}


def move_all(lh: Lakehouse, steps: list[Step], what: str) -> None:
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
    attempted: list[Step] = []
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


def _move_together(lh: Lakehouse, steps: list[Step], what: str) -> None:
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


def _landed(lh: Lakehouse, step: Step) -> bool:
    from ..catalog import table_exists

    if step.rename and not table_exists(lh.catalog, step.table):
        return False
    table = load_table(lh.catalog, step.table if step.rename else step.where)
    return head_snapshot_id(table, step.ref) == step.head


@dataclass(frozen=True)
class Step:
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


def _undo(lh: Lakehouse, attempted: list[Step]) -> tuple[list[str], list[tuple[Step, str]]]:
    """Move main back on every attempted table, newest first.

    Returns:
        The tables whose main is back where it was, and (step, reason) for those that could not be
        put back (their main is, or may be, still at the branch head).
    """
    import time

    restored: list[str] = []
    left: list[tuple[Step, str]] = []
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


def _restore(lh: Lakehouse, step: Step) -> None:
    if step.rename:
        assert step.physical is not None
        rename_back(lh.catalog, step.table, step.physical)
        # Hidden again, the table is not main's whatever its main ref says: resetting that ref is tidying.
        with contextlib.suppress(Exception):
            _restore(lh, Step(step.table, step.previous, step.head, step.ref, step.physical))
        return
    table = load_table(lh.catalog, step.where)
    now = head_snapshot_id(table, step.ref)
    if now == step.previous or now is None or step.head not in ancestors(table, now):
        return  # the move did not land (or a concurrent writer replaced it): nothing of ours there
    if now != step.head:
        raise Conflict(f"{step.ref} moved to snapshot {now} after it was moved")
    if step.previous is None:
        from ..tables.commit import manage_snapshots

        manage_snapshots(table).remove_branch(step.ref).commit()  # guarded: still at step.head
    else:
        set_ref(table, step.ref, step.previous, expected=step.head)


def _incomplete_message(
    what: str, failed: str, error: BaseException, restored: list[str], left: list[tuple[Step, str]]
) -> str:
    def was(step: Step) -> str:
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
