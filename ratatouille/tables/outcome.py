"""Commits whose outcome is unknown: the table is asked whether they landed, and nothing is deleted.

A catalog can fail a commit without saying whether it applied it: an Iceberg REST catalog answering 5xx
(pyiceberg's ``CommitStateUnknownException``), a connection to the catalog database dropped while it
committed, an interrupt in the middle of the call. Each write marks its snapshot with a random id
(:data:`COMMIT_MARKER` in the summary); after such a failure the table is loaded again and the marker
looked for. Landed: the write succeeded, and says so. Not landed: the original error, noting that nothing
was written (the files are left to the orphan sweep: a catalog that answered 5xx may still apply it).
Cannot tell: :class:`~ratatouille.errors.CommitOutcomeUnknown`, and nothing is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import CommitOutcomeUnknown
from .commit import COMMIT_MARKER, lost_race

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction


def find_commit(
    catalog: Catalog,
    identifier: str,
    marker: str,
    error: BaseException,
    *,
    prop: str = COMMIT_MARKER,
    hint: str = "",
) -> tuple[Table, int] | None:
    """The table and the snapshot of the commit carrying ``marker``; None when it did not land.

    Args:
        catalog: The catalog.
        identifier: The name the catalog knows the table by.
        marker: The commit's marker.
        error: What the commit raised (named in the message when the table cannot be read).
        prop: The summary property holding the marker.
        hint: What the user can do meanwhile, appended to the message.

    Raises:
        CommitOutcomeUnknown: The table could not be read: whether the commit landed cannot be told now.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        table = catalog.load_table(identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None  # the commit that would have created it did not land
    except Exception as check:
        raise CommitOutcomeUnknown(
            f"the commit to {identifier} failed ({type(error).__name__}: {error}) and whether it landed "
            f"cannot be told now ({type(check).__name__}: {check}). Its files are kept. Once the catalog "
            f"answers, rat.ice_history({identifier!r}) shows whether it did{hint}"
        ) from error
    for snap in table.metadata.snapshots:
        if _marker(snap, prop) == marker:
            return table, snap.snapshot_id
    return None


def _marker(snapshot: Any, prop: str) -> str | None:
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    marker = props.get(prop)
    return None if marker is None else str(marker)


def commit_or_find(tx: Transaction, catalog: Catalog, identifier: str, marker: str) -> Table:
    """Commit ``tx``; after a failure with an unknown outcome, find out whether it landed.

    Returns:
        The table as committed.

    Raises:
        CommitOutcomeUnknown: It cannot be told whether the commit landed.
        BaseException: The commit's own error: a lost race (plan again), or a failure after which the
            table shows the commit did not land (noted on the error).
    """
    try:
        tx.commit_transaction()
        return tx._table
    except BaseException as error:
        if isinstance(error, Exception) and lost_race(error):
            raise
        found = find_commit(
            catalog, identifier, marker, error, hint="; writing the same data again may duplicate it"
        )
        if found is None:
            error.add_note(
                f"ratatouille: the table shows this commit to {identifier} did not land: nothing was written"
            )
            raise
        if not isinstance(error, Exception):  # an interrupt: it landed, but the user asked to stop
            error.add_note(f"ratatouille: the commit to {identifier} landed (snapshot {found[1]})")
            raise
        return found[0]
