"""Branches and tags of ONE table: ancestry, create, fast-forward, drop, and guarded ref moves.

Each change is one catalog commit guarded by a requirement that the ref still points where it was read,
so a concurrent writer becomes a :class:`~ratatouille.errors.Conflict` rather than a lost update. Dev mode
(:mod:`ratatouille.branches`) applies these across every table of a branch; the sidebar applies them to
one table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import AlreadyExists, Conflict, InvalidInput, NotFound
from ..reading import MAIN
from ..sqltext import validate_branch_name

if TYPE_CHECKING:
    from pyiceberg.table import Table


def ancestors(table: Table, snapshot_id: int | None) -> list[int]:
    """``snapshot_id`` and its ancestors, newest first (walking ``parent_snapshot_id``)."""
    out: list[int] = []
    seen: set[int] = set()
    current = snapshot_id
    while current is not None and current not in seen:
        out.append(current)
        seen.add(current)
        snap = table.metadata.snapshot_by_id(current)
        current = None if snap is None else snap.parent_snapshot_id
    return out


def is_ancestor(table: Table, ancestor: int, descendant: int) -> bool:
    """True when ``ancestor`` is ``descendant`` or one of its parents."""
    return ancestor in ancestors(table, descendant)


def is_branch(table: Table, name: str) -> bool:
    """True when ``name`` is a branch (not a tag) of the table."""
    ref = table.metadata.refs.get(name)
    return ref is not None and ref.snapshot_ref_type.value == "branch"


def require_branch(table: Table, name: str) -> int:
    """The head of branch ``name``.

    Raises:
        NotFound: No such ref.
        InvalidInput: ``name`` is a tag.
    """
    ref = table.metadata.refs.get(name)
    if ref is None:
        known = ", ".join(sorted(r for r in table.metadata.refs if is_branch(table, r))) or "none"
        raise NotFound(f"table has no branch {name!r} (its branches: {known})")
    if ref.snapshot_ref_type.value != "branch":
        raise InvalidInput(f"{name!r} is a tag, not a branch")
    return ref.snapshot_id


def set_ref(table: Table, ref_name: str, snapshot_id: int, expected: int | None) -> None:
    """Point branch ``ref_name`` at a snapshot, in one commit that fails if it moved from ``expected``.

    Raises:
        pyiceberg.exceptions.CommitFailedException: The branch moved meanwhile.
    """
    from ..tables.atomic import ref_commit
    from ..tables.commit import transaction

    change = ref_commit(table, ref_name, snapshot_id, expected)
    tx = transaction(table)
    tx._stage(change.updates, change.requirements)
    tx.commit_transaction()


def _commit(action: str, run: Callable[[], object]) -> None:
    from pyiceberg.exceptions import CommitFailedException

    try:
        run()
    except CommitFailedException as e:
        raise Conflict(f"cannot {action}: the table changed meanwhile, refresh and try again ({e})") from e


def create_branch(table: Table, name: str, source: str = MAIN, snapshot_id: int | None = None) -> int:
    """Create branch ``name`` at the head of branch or tag ``source``, or at ``snapshot_id``; return it.

    Raises:
        InvalidInput: A bad name, or a table with no snapshot yet.
        AlreadyExists: A branch or tag of that name exists.
        NotFound: ``source`` or ``snapshot_id`` does not exist.
    """
    from ..tables.commit import manage_snapshots

    validate_branch_name(name)
    if name in table.metadata.refs:
        raise AlreadyExists(f"table already has a branch or tag named {name!r}")
    if snapshot_id is None:
        ref = table.metadata.refs.get(validate_branch_name(source))
        if ref is None:
            if not table.metadata.snapshots:
                raise InvalidInput("the table has no snapshot yet: write to it before branching")
            raise NotFound(f"table has no branch or tag {source!r}")
        snapshot_id = ref.snapshot_id
    elif table.metadata.snapshot_by_id(snapshot_id) is None:
        raise NotFound(f"table has no snapshot {snapshot_id}")
    start = snapshot_id
    _commit(f"create branch {name}", lambda: manage_snapshots(table).create_branch(start, name).commit())
    return start


def fast_forward(table: Table, branch: str, target: str = MAIN) -> tuple[int, int, bool]:
    """Move branch ``target`` to the head of ``branch`` when ``target``'s head is an ancestor of it.

    Returns:
        (previous head of ``target``, new head, whether it moved).

    Raises:
        NotFound: Either branch does not exist.
        Conflict: ``target`` has commits that ``branch`` lacks (a merge is needed, not a fast-forward), or
            it moved meanwhile.
    """
    validate_branch_name(branch)
    validate_branch_name(target)
    if branch == target:
        raise InvalidInput(f"cannot fast-forward {target!r} to itself")
    head = require_branch(table, branch)
    previous = require_branch(table, target)
    if previous == head:
        return previous, head, False
    if not is_ancestor(table, previous, head):
        raise Conflict(
            f"cannot fast-forward {target} to {branch}: {target} has snapshots that {branch} does not have"
        )
    _commit(f"fast-forward {target}", lambda: set_ref(table, target, head, expected=previous))
    return previous, head, True


def drop_branch(table: Table, name: str) -> int:
    """Drop branch ``name`` (its snapshots stay until expired); return its head.

    Raises:
        InvalidInput: ``name`` is main or a tag.
        NotFound: No such branch.
    """
    from ..tables.commit import manage_snapshots

    validate_branch_name(name)
    if name == MAIN:
        raise InvalidInput("main cannot be dropped")
    head = require_branch(table, name)
    _commit(f"drop branch {name}", lambda: manage_snapshots(table).remove_branch(name).commit())
    return head
