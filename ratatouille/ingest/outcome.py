"""Whether a commit that failed with an unknown outcome landed: it is looked for in the table.

Each ingestion commit carries a random marker in its snapshot summary (``COMMIT_PROPERTY``); after a
failure that does not say whether the catalog applied the commit, the table is read again and the marker
looked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CommitOutcomeUnknown
from .lineage import COMMIT_PROPERTY

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def find_commit(catalog: Catalog, target: str, marker: str, error: BaseException) -> tuple[Table, int] | None:
    """The table and the snapshot of the commit carrying ``marker``; None when it did not land.

    Args:
        catalog: The catalog.
        target: ``namespace.table``.
        marker: The commit's marker.
        error: What the commit raised (named in the message when the table cannot be read).

    Raises:
        CommitOutcomeUnknown: The table could not be read: whether the commit landed cannot be told now.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        table = catalog.load_table(target)
    except (NoSuchTableError, NoSuchNamespaceError):
        return None  # the commit that would have created it did not land
    except Exception as check:
        raise CommitOutcomeUnknown(
            f"the commit to {target} failed ({type(error).__name__}: {error}) and whether it landed "
            f"cannot be told now ({type(check).__name__}: {check}). Its files are kept. Once the catalog "
            f"answers, rat.ice_history({target!r}) shows whether it did; ingesting the same files again "
            "with skip_existing=True is safe: files this commit wrote are recognized as ingested if it "
            "landed"
        ) from error
    for snap in table.metadata.snapshots:
        if _marker(snap) == marker:
            return table, snap.snapshot_id
    return None


def _marker(snapshot: Any) -> str | None:
    props = snapshot.summary.additional_properties if snapshot.summary else {}
    marker = props.get(COMMIT_PROPERTY)
    return None if marker is None else str(marker)
