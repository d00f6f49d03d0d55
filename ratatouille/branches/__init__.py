"""Branches: dev mode across tables, tables created on a branch, listing, diff, refs of one table."""

from .listing import BranchTable, branch_state, list_branches, tables_on
from .publishing import drop, expire, publish, start

__all__ = ["BranchTable", "branch_state", "drop", "expire", "list_branches", "publish", "start", "tables_on"]
