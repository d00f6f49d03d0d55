"""Branches: dev mode across tables, publishing and rebasing, tables created on a branch, refs of one table.

:mod:`.dev` starts, drops and expires dev branches, :mod:`.publishing` publishes one all or nothing,
:mod:`.rebase` replays its SQL transforms on a main that moved, :mod:`.listing` tells where each table
stands, :mod:`.hidden` keeps the tables created on a branch under hidden names, :mod:`.diff` compares a
branch with main, and :mod:`.refs` moves the branches and tags of one table.
"""

from .dev import drop, expire, start
from .listing import BranchTable, branch_state, list_branches, tables_on
from .publishing import publish

__all__ = ["BranchTable", "branch_state", "drop", "expire", "list_branches", "publish", "start", "tables_on"]
