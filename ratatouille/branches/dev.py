"""Dev mode: one branch name across all tables, isolated reads and writes, safe publishing.

A branch exists per table as an Iceberg branch ref; a table joins a branch when it is first written on it
(branched from main's head at that moment) or when it is named in :func:`start`. Nothing else is stored:
the fork point of a table is the newest snapshot of its branch that is also in main's history.

This module starts, drops and expires branches; publishing is :mod:`.publishing`, the replay of a branch
on a main that moved is :mod:`.rebase`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..catalog import drop_table, load_table
from ..errors import InvalidInput, NotFound
from ..reading import MAIN, head_snapshot_id
from ..sqltext import TableRef, validate_branch_name
from .hidden import owner_branch
from .listing import all_tables, tables_on

if TYPE_CHECKING:
    from ..session import Lakehouse


def check_dev_name(name: str) -> str:
    """``name`` when it is a valid branch name other than main.

    Raises:
        InvalidInput: A bad branch name, or main.
    """
    validate_branch_name(name)
    if name == MAIN:
        raise InvalidInput("'main' is the published branch: start a dev branch with another name")
    return name


def start(lh: Lakehouse, name: str, tables: list[str] | None = None) -> list[str]:
    """Make ``name`` the session's branch; branch the given tables from main now (others on first write).

    Returns:
        The tables branched now.
    """
    from ..tables.commit import manage_snapshots

    check_dev_name(name)
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
        manage_snapshots(table).create_branch(main_head, name).commit()
        branched.append(ref.identifier)
    lh.use_branch(name)
    return branched


def drop(lh: Lakehouse, name: str) -> list[str]:
    """Remove ``name`` from every table; the session returns to main if it was on it.

    The tables created on the branch (not published) are dropped with their files.

    Returns:
        The tables the branch was removed from.
    """
    from ..tables.commit import manage_snapshots

    check_dev_name(name)
    removed = []
    for state in tables_on(lh, name):
        if state.staged is not None and owner_branch(name) == name:
            drop_table(lh.catalog, state.staged, purge=True)
        else:
            manage_snapshots(load_table(lh.catalog, state.physical)).remove_branch(name).commit()
        removed.append(state.table)
    if lh.branch == name:
        lh.use_branch(None)
    if not removed:
        raise NotFound(f"no table has a branch {name!r}")
    return removed


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
