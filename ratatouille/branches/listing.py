"""Which tables have a dev branch, and where each stands against main (for status, listing, publishing).

A table created on a branch and not published yet (see :mod:`ratatouille.branches.hidden`) is listed under
its real name, with its hidden name in :attr:`BranchTable.staged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import list_namespaces, list_tables, load_table, table_exists
from ..reading import MAIN, head_snapshot_id
from ..sqltext import TableRef
from .hidden import staged_tables
from .refs import ancestors

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from ..session import Lakehouse


@dataclass(frozen=True)
class BranchTable:
    """One table's state on a branch.

    Attributes:
        table: ``namespace.table``.
        branch: The branch name.
        head: The branch head snapshot.
        fork: The snapshot the branch started from (None when the table was created on the branch).
        main_head: Main's head now (None when main has no snapshot).
        ahead: Snapshots on the branch since the fork.
        main_moved: True when main has commits the branch does not have.
        staged: The hidden name of a table created on the branch (not published yet), else None.
    """

    table: str
    branch: str
    head: int
    fork: int | None
    main_head: int | None
    ahead: int
    main_moved: bool
    staged: str | None = None

    @property
    def physical(self) -> str:
        """The name the catalog knows the table by."""
        return self.staged or self.table

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (for DataFrames and JSON)."""
        out = dict(self.__dict__)
        out["created"] = out.pop("staged") is not None
        return out


def branch_state(table: Table, identifier: str, branch: str, staged: str | None = None) -> BranchTable | None:
    """The state of ``branch`` on one table, or None when the table does not have it."""
    head = head_snapshot_id(table, branch)
    if head is None:
        return None
    main_head = head_snapshot_id(table, MAIN)
    main_line = set(ancestors(table, main_head))
    lineage = ancestors(table, head)
    fork = next((s for s in lineage if s in main_line), None)
    ahead = lineage.index(fork) if fork is not None else len(lineage)
    return BranchTable(
        identifier, branch, head, fork, main_head, ahead, main_head is not None and fork != main_head, staged
    )


def all_tables(lh: Lakehouse) -> list[str]:
    """``namespace.table`` of every table of main (tables created on a branch are not)."""
    return [f"{ns}.{t}" for ns in list_namespaces(lh.catalog) for t in list_tables(lh.catalog, ns)]


def tables_on(lh: Lakehouse, branch: str) -> list[BranchTable]:
    """Every table that has ``branch``, including those created on it (not published yet)."""
    out = []
    for ident in all_tables(lh):
        state = branch_state(load_table(lh.catalog, ident), ident, branch)
        if state is not None:
            out.append(state)
    for staged in staged_tables(lh.catalog, branch):
        table = _load_staged(lh, staged.staged)
        state = None if table is None else branch_state(table, staged.identifier, branch, staged.staged)
        if state is not None:
            out.append(state)
    return sorted(out, key=lambda s: s.table)


def _load_staged(lh: Lakehouse, staged: str) -> Table | None:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        return lh.catalog.load_table(staged)
    except NoSuchTableError:  # dropped meanwhile
        return None


def list_branches(lh: Lakehouse, table: str | None = None) -> list[BranchTable]:
    """Every (branch, table) pair other than main, for all tables or one."""
    ident = TableRef.parse(table).identifier if table else None
    staged = staged_tables(lh.catalog, identifier=ident)
    idents = [ident] if ident else all_tables(lh)
    if ident and staged and not table_exists(lh.catalog, ident):
        idents = []  # created on a branch only
    found: list[tuple[str, Table, str | None]] = [(i, load_table(lh.catalog, i), None) for i in idents]
    found += [(s.identifier, t, s.staged) for s in staged if (t := _load_staged(lh, s.staged)) is not None]
    out = []
    for i, t, hidden in found:
        for name, ref in sorted(t.metadata.refs.items()):
            if name != MAIN and ref.snapshot_ref_type.value == "branch":
                state = branch_state(t, i, name, hidden)
                if state is not None:
                    out.append(state)
    return sorted(out, key=lambda s: (s.table, s.branch))
