"""Table calls of ``rat``: deletes, partitioning and maintenance; thin over :mod:`.tables`.

Compaction works on the session's active branch (in dev mode the branch's files, never main's). Expiry,
the orphan sweep and policy-driven maintenance change main's history and the table's folder, so they
run from main only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InvalidInput
from .sdk_base import FacadeBase
from .sqltext import TableRef

if TYPE_CHECKING:
    from .ingest.registry import Registry

_MIB = 1024 * 1024


class TablesMixin(FacadeBase):
    """Table calls of ``rat``: row deletes, partitioning and maintenance (see docs/tables.md)."""

    def ice_delete(self, table: str, where: str) -> dict[str, Any]:
        """Delete the rows where ``where`` (ClickHouse SQL over the table's columns) is true; one commit.

        Only the data files holding matching rows are rewritten. Returns ``{"deleted": n, "snapshot_id":
        ..., "files_rewritten": n}``; no commit when nothing matches.
        """
        result = self.session.delete(table, where)
        return {
            "deleted": result.rows,
            "snapshot_id": result.snapshot_id,
            "files_rewritten": result.files_removed,
        }

    def ice_partition(self, table: str, partition_by: list[str] | str) -> list[str]:
        """Change how NEW data of a table is partitioned (existing files keep theirs); one commit.

        Returns:
            The table's partitioning afterwards, as ``partition_by`` terms.
        """
        from .tables.partitioning import repartition

        return repartition(self.session.catalog, self._physical(table), partition_by)

    def ice_compact(
        self, table: str, sort_by: list[str] | str | None = None, target_file_mb: float | None = None
    ) -> dict[str, Any]:
        """Bin-pack the table's small files (on the active branch) into files of about the target size.

        Args:
            table: ``namespace.table``.
            sort_by: Columns to sort the rewritten rows by (then every file of a partition is rewritten).
            target_file_mb: The file size to aim at, in MiB; the table's policy when omitted (64 MiB).

        Returns:
            ``files_before``, ``files_after``, ``rewritten``, ``added``, ``bytes_before``, ``bytes_after``,
            ``snapshot_id``: one ``replace`` commit, or none when there was nothing to do.
        """
        from .tables.compaction import compact

        ident = TableRef.parse(table).identifier
        target = None
        if target_file_mb is not None:
            number = isinstance(target_file_mb, int | float) and not isinstance(target_file_mb, bool)
            if not number or target_file_mb <= 0:
                raise InvalidInput(f"target_file_mb must be a positive number, got {target_file_mb!r}")
            target = max(1, int(target_file_mb * _MIB))
        return compact(
            self.session.catalog,
            ident,
            branch=self.session.branch,
            sort_by=sort_by,
            target_file_bytes=target,
            context=self.session.context,
        )

    def ice_expire(
        self, table: str, older_than: Any = None, retain_last: int | None = None
    ) -> dict[str, Any]:
        """Expire main's snapshots older than ``older_than`` and delete the files only they used.

        Branch and tag heads, the fork points of branches and the last ``retain_last`` snapshots of main
        (the table's policy when omitted, 20 by default) are kept. Files already ingested stay ingested.

        Args:
            table: ``namespace.table``.
            older_than: A timedelta, datetime or string such as ``"36h"`` or ``"7d"``; the table's policy
                (``max_snapshot_age``, 7 days by default) when omitted.
            retain_last: Snapshots of main to keep whatever their age (at least 1).

        Returns:
            ``expired``, ``snapshots_left``, ``deleted_files``, ``deleted_manifests``,
            ``deleted_manifest_lists``.
        """
        from .tables.expiry import expire

        ident = self._main_only(table, "expiry")
        catalog, registry = self.session.catalog, self._registry()
        return expire(catalog, ident, older_than=older_than, retain_last=retain_last, lineage=registry)

    def ice_remove_orphans(self, table: str, older_than: Any = None) -> dict[str, Any]:
        """Delete files under the table's location that nothing references and that are old enough.

        Args:
            table: ``namespace.table``.
            older_than: Minimum age of a file to delete (at least one hour: younger files may belong to a
                write that has not committed yet); the table's policy (``orphan_min_age``, 3 days by
                default) when omitted.

        Returns:
            ``listed``, ``orphans``, ``deleted``, ``kept_recent``.
        """
        from .tables.orphans import remove_orphans

        ident = self._main_only(table, "the orphan sweep")
        return remove_orphans(self.session.catalog, ident, older_than=older_than)

    def ice_maintain(self, table: str | None = None) -> dict[str, Any]:
        """Apply the maintenance policy of one table, or of every table (what runs nightly).

        Returns:
            ``{table: report}`` with the policy and what compaction, manifest rewrite, expiry and the
            orphan sweep did; over every table, one that fails reports ``{"error": ...}``.
        """
        from .tables.maintain import maintain

        ident = self._main_only(table, "maintenance") or None
        return maintain(self.session.catalog, ident, lineage=self._registry())

    def ice_policy(self, table: str, **settings: Any) -> dict[str, Any]:
        """Read a table's maintenance policy, or change some of its settings (stored in the table).

        Args:
            table: ``namespace.table``.
            **settings: ``target_file_bytes``, ``small_file_bytes``, ``min_compact_files``,
                ``retain_last``, ``max_snapshot_age`` (e.g. ``"7d"``), ``orphan_min_age`` (at least
                ``"1h"``), ``max_manifests``, ``enabled``.

        Returns:
            The policy after the change, as a dict.
        """
        from .catalog import load_table
        from .tables.policy import policy_of, set_policy

        ident = self._physical(table)
        if not settings:
            return policy_of(load_table(self.session.catalog, ident)).as_dict()
        return set_policy(self.session.catalog, ident, **settings).as_dict()

    def _physical(self, table: str) -> str:
        """The catalog name of ``table`` as the session's branch sees it (hidden if created on the branch)."""
        from .branches.hidden import find_staged, staged_identifier
        from .reading import MAIN

        ident = TableRef.parse(table).identifier
        branch = self.session.branch
        if branch != MAIN and find_staged(self.session.catalog, ident, branch) is not None:
            return staged_identifier(ident, branch)
        return ident

    def _main_only(self, table: str | None, what: str) -> str:
        from .reading import MAIN

        ident = TableRef.parse(table).identifier if table is not None else ""
        if self.session.branch != MAIN:
            raise InvalidInput(
                f"{what} works on main's history; the session is on branch {self.session.branch!r}: "
                "switch back with rat.dev() first"
            )
        return ident

    def _registry(self) -> Registry:
        from .ingest.registry import Registry

        return Registry(self.session.settings, self.session.catalog)
