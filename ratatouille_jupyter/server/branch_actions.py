"""Branch actions of the sidebar on one table, thin over :mod:`ratatouille.branches.refs`.

Snapshot ids travel as strings (:func:`~ratatouille_jupyter.server.describe.sid`): they are 64-bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ratatouille.branches import refs
from ratatouille.reading import MAIN

from .describe import sid

if TYPE_CHECKING:
    from pyiceberg.table import Table


def create_branch(
    table: Table, name: str, source: str = MAIN, snapshot_id: int | None = None
) -> dict[str, Any]:
    """Create branch ``name`` (see :func:`ratatouille.branches.refs.create_branch`)."""
    start = refs.create_branch(table, name, source, snapshot_id)
    return {"name": name, "type": "branch", "snapshot_id": sid(start)}


def fast_forward(table: Table, branch: str, target: str = MAIN) -> dict[str, Any]:
    """Fast-forward ``target`` to ``branch`` (see :func:`ratatouille.branches.refs.fast_forward`)."""
    previous, head, changed = refs.fast_forward(table, branch, target)
    return {
        "target": target,
        "branch": branch,
        "snapshot_id": sid(head),
        "previous_snapshot_id": sid(previous),
        "changed": changed,
    }


def drop_branch(table: Table, name: str) -> dict[str, Any]:
    """Drop branch ``name`` (see :func:`ratatouille.branches.refs.drop_branch`)."""
    return {"name": name, "snapshot_id": sid(refs.drop_branch(table, name))}
