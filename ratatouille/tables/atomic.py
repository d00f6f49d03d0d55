"""Commit changes to several tables as one: all land or none does, even if the process dies midway.

An Iceberg catalog commits one table at a time. Publishing a branch moves main on every table of the
branch, and a reader must never see some of them moved and others not, nor may a crash between two
commits leave it so. The SQL catalogs (SQLite, Postgres) keep every table's current metadata location
in one database table, so the pointer swaps of several tables fit in one database transaction: each new
metadata file is written first (invisible until pointed at), then one transaction updates every row,
each guarded by the metadata location the change was planned on. A concurrent commit to any of the
tables, or a crash before the transaction commits, leaves all of them as they were.

Other catalogs (REST) have no such transaction here: :func:`commit_together` says so, and the caller
commits one table at a time and undoes on failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table
    from pyiceberg.table.update import TableRequirement, TableUpdate
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TableCommit:
    """One table's part of a multi-table commit.

    Attributes:
        table: The table as loaded when the change was planned (its metadata location is asserted).
        requirements: Iceberg requirements checked against that metadata (e.g. a ref's expected head).
        updates: The metadata updates to apply.
        rename_to: ``(namespace, name)`` to move the table to in the same commit, or None.
    """

    table: Table
    requirements: tuple[TableRequirement, ...]
    updates: tuple[TableUpdate, ...]
    rename_to: tuple[str, str] | None = None


def supports_atomic(catalog: Catalog) -> bool:
    """True when ``catalog`` can commit several tables in one transaction (the SQL catalogs)."""
    from pyiceberg.catalog.sql import SqlCatalog

    return isinstance(catalog, SqlCatalog) and bool(catalog.engine.dialect.supports_sane_rowcount)


def ref_commit(table: Table, ref_name: str, snapshot_id: int, expected: int | None) -> TableCommit:
    """The change pointing branch ``ref_name`` at ``snapshot_id``, asserting it is still at ``expected``."""
    from pyiceberg.table.refs import SnapshotRefType
    from pyiceberg.table.update import AssertRefSnapshotId

    from .commit import transaction

    tx = transaction(table)
    updates, requirements = tx._set_ref_snapshot(
        snapshot_id=snapshot_id, ref_name=ref_name, type=SnapshotRefType.BRANCH
    )
    # pyiceberg asserts the ref as the transaction saw it; assert what the caller checked instead.
    requirements = tuple(
        AssertRefSnapshotId(snapshot_id=expected, ref=ref_name)  # type: ignore[call-arg]
        if isinstance(r, AssertRefSnapshotId)
        else r
        for r in requirements
    )
    return TableCommit(table, requirements, updates)


def commit_together(catalog: Catalog, commits: list[TableCommit]) -> bool:
    """Apply every commit in one catalog transaction, or none of them.

    Returns:
        False when the catalog cannot do it (nothing was changed: commit one by one instead), True when
        every table was committed.

    Raises:
        pyiceberg.exceptions.CommitFailedException: A requirement failed or a table changed since it was
            loaded; no table was changed.
        pyiceberg.exceptions.TableAlreadyExistsError: A ``rename_to`` name is taken; no table was changed.
    """
    from pyiceberg.exceptions import TableAlreadyExistsError
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    if not supports_atomic(catalog):
        return False
    if not commits:
        return True
    staged = []
    for c in commits:
        ident = c.table.name()[-2:]
        # Checked against the metadata the change was planned on; the guarded UPDATE below then proves the
        # catalog still points at that same metadata, so nothing committed in between is overwritten.
        new = catalog._update_and_stage_table(c.table, ident, c.requirements, c.updates)  # type: ignore[attr-defined]
        staged.append((c, ident, new))
    for _, _, new in staged:  # written before any pointer moves: readers cannot see them until then
        catalog._write_metadata(new.metadata, new.io, new.metadata_location)  # type: ignore[attr-defined]
    with Session(catalog.engine) as session:  # type: ignore[attr-defined]
        try:
            for c, ident, new in staged:
                point(session, catalog, c, ident, new.metadata_location)
            session.commit()
        except IntegrityError as e:
            session.rollback()
            raise TableAlreadyExistsError(f"cannot rename: the new name is taken ({e.orig})") from e
        except BaseException:
            session.rollback()
            raise
    return True


def point(
    session: Session, catalog: Catalog, commit: TableCommit, ident: tuple[str, ...], location: str
) -> None:
    """Inside the transaction: point one table at its new metadata (and rename it), if still unchanged.

    Raises:
        pyiceberg.exceptions.CommitFailedException: The table changed since it was loaded.
    """
    from pyiceberg.catalog import Catalog as BaseCatalog
    from pyiceberg.catalog.sql import IcebergTables
    from pyiceberg.exceptions import CommitFailedException
    from sqlalchemy import update

    namespace, name = BaseCatalog.namespace_to_string(ident[:-1]), ident[-1]
    values: dict[str, str] = {
        "metadata_location": location,
        "previous_metadata_location": commit.table.metadata_location,
    }
    if commit.rename_to is not None:
        values["table_namespace"], values["table_name"] = commit.rename_to
    result = session.execute(
        update(IcebergTables)
        .where(
            IcebergTables.catalog_name == catalog.name,
            IcebergTables.table_namespace == namespace,
            IcebergTables.table_name == name,
            IcebergTables.metadata_location == commit.table.metadata_location,
        )
        .values(**values)
    )
    if result.rowcount < 1:  # type: ignore[attr-defined]  # an UPDATE's result has it
        raise CommitFailedException(f"{namespace}.{name} changed meanwhile")
