"""Branch actions of the sidebar: create, fast-forward and drop a branch of one table.

Minimal helpers over pyiceberg's ``manage_snapshots()``. Each is one catalog commit guarded by pyiceberg's
ref requirements (the ref must still point where it was read), so a concurrent writer turns into a
:class:`~ratatouille.errors.Conflict` rather than a lost update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ratatouille.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from ratatouille.reading import MAIN
from ratatouille.sqltext import validate_branch_name

from .describe import sid

if TYPE_CHECKING:
    from pyiceberg.table import Table


def _is_branch(table: Table, name: str) -> bool:
    ref = table.metadata.refs.get(name)
    return ref is not None and ref.snapshot_ref_type.value == "branch"


def _require_branch(table: Table, name: str) -> int:
    ref = table.metadata.refs.get(name)
    if ref is None:
        known = ", ".join(sorted(r for r in table.metadata.refs if _is_branch(table, r))) or "none"
        raise NotFound(f"table has no branch {name!r} (its branches: {known})")
    if ref.snapshot_ref_type.value != "branch":
        raise InvalidInput(f"{name!r} is a tag, not a branch")
    return ref.snapshot_id


def _commit(action: str, run: Any) -> None:
    from pyiceberg.exceptions import CommitFailedException

    try:
        run()
    except CommitFailedException as e:
        raise Conflict(f"cannot {action}: the table changed meanwhile, refresh and try again ({e})") from e


def create_branch(
    table: Table, name: str, source: str = MAIN, snapshot_id: int | None = None
) -> dict[str, Any]:
    """Create branch ``name`` at the head of branch or tag ``source``, or at ``snapshot_id``.

    Raises:
        InvalidInput: A bad name, or a table with no snapshot yet.
        AlreadyExists: A branch or tag of that name exists.
        NotFound: ``source`` or ``snapshot_id`` does not exist.
    """
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
    _commit(f"create branch {name}", lambda: table.manage_snapshots().create_branch(start, name).commit())
    return {"name": name, "type": "branch", "snapshot_id": sid(start)}


def is_ancestor(table: Table, ancestor: int, descendant: int) -> bool:
    """True when ``ancestor`` is ``descendant`` or one of its parents (walking ``parent_snapshot_id``)."""
    seen: set[int] = set()
    current: int | None = descendant
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        snap = table.metadata.snapshot_by_id(current)
        current = snap.parent_snapshot_id if snap else None
    return False


def fast_forward(table: Table, branch: str, target: str = MAIN) -> dict[str, Any]:
    """Move branch ``target`` to the head of ``branch``, when ``target``'s head is an ancestor of it.

    Returns:
        ``{"target", "branch", "snapshot_id", "previous_snapshot_id", "changed"}``.

    Raises:
        NotFound: Either branch does not exist.
        Conflict: ``target`` has commits that ``branch`` lacks (a merge is needed, not a fast-forward).
    """
    validate_branch_name(branch)
    validate_branch_name(target)
    if branch == target:
        raise InvalidInput(f"cannot fast-forward {target!r} to itself")
    head = _require_branch(table, branch)
    previous = _require_branch(table, target)
    result = {
        "target": target,
        "branch": branch,
        "snapshot_id": sid(head),
        "previous_snapshot_id": sid(previous),
    }
    if previous == head:
        return {**result, "changed": False}
    if not is_ancestor(table, previous, head):
        raise Conflict(
            f"cannot fast-forward {target} to {branch}: {target} has snapshots that {branch} does not have"
        )
    _commit(f"fast-forward {target}", lambda: table.manage_snapshots().create_branch(head, target).commit())
    return {**result, "changed": True}


def drop_branch(table: Table, name: str) -> dict[str, Any]:
    """Drop branch ``name`` (its snapshots stay until expired).

    Raises:
        InvalidInput: ``name`` is main or a tag.
        NotFound: No such branch.
    """
    validate_branch_name(name)
    if name == MAIN:
        raise InvalidInput("main cannot be dropped")
    head = _require_branch(table, name)
    _commit(f"drop branch {name}", lambda: table.manage_snapshots().remove_branch(name).commit())
    return {"name": name, "snapshot_id": sid(head)}
