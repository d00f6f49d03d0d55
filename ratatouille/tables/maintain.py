"""Policy-driven maintenance of one table or every table: what runs nightly.

For each table whose policy is enabled, in this order: compact main when it has at least
``min_compact_files`` small files or row-level delete files (written by another engine), rewrite main's
manifests when there are more than ``max_manifests``, expire snapshots older than ``max_snapshot_age``
(keeping ``retain_last``), and sweep orphan files older than ``orphan_min_age``. Each step is its own
commit (or none when there is nothing to do). A table in a format version this writer cannot write
(another engine's v3 table) is skipped, with the reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..catalog import list_namespaces, list_tables, load_table
from ..errors import InvalidInput, RatError
from ..reading import MAIN, head_snapshot_id
from ..sqltext import TableRef
from .commit import check_writable
from .compaction import compact, rewrite_manifests
from .deletes import scan_tasks
from .expiry import Lineage, expire
from .orphans import remove_orphans
from .policy import policy_of

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def all_tables(catalog: Catalog) -> list[str]:
    """``namespace.table`` of every table of the catalog."""
    return [f"{ns}.{t}" for ns in list_namespaces(catalog) for t in list_tables(catalog, ns)]


def maintain_table(catalog: Catalog, identifier: str, *, lineage: Lineage | None) -> dict[str, Any]:
    """Apply one table's policy (see the module docstring); return what each step did.

    Raises:
        NotFound: No such table.
        Conflict: A step kept losing to concurrent commits (the steps before it are done).
    """
    table = load_table(catalog, identifier)
    policy = policy_of(table)
    report: dict[str, Any] = {"policy": policy.as_dict()}
    if not policy.enabled:
        report["skipped"] = "maintenance is disabled by the table's policy"
        return report
    try:
        check_writable(table)
    except InvalidInput as e:  # another engine's table in a format this writer cannot commit to
        report["skipped"] = str(e)
        return report
    head = head_snapshot_id(table, MAIN)
    if head is not None:
        deletes = None
        try:
            tasks, deletes = scan_tasks(table, head)
        except RatError as e:  # files compaction cannot apply: it is skipped, the other steps run
            report["compaction"] = {"skipped": str(e)}
            tasks = []
        small = [t for t in tasks if t.file.file_size_in_bytes < policy.small_file_bytes]
        # Row-level delete files are rewritten away: reads apply them, at a cost.
        if len(small) >= policy.min_compact_files or deletes is not None:
            report["compaction"] = compact(catalog, identifier, context={"maintenance": "policy"})
        manifests = table.metadata.snapshot_by_id(head)
        if manifests is not None and len(manifests.manifests(table.io)) > policy.max_manifests:
            report["manifests"] = rewrite_manifests(catalog, identifier, context={"maintenance": "policy"})
    report["expiry"] = expire(catalog, identifier, lineage=lineage)
    report["orphans"] = remove_orphans(catalog, identifier)
    return report


def maintain(
    catalog: Catalog, identifier: str | None = None, *, lineage: Lineage | None
) -> dict[str, dict[str, Any]]:
    """Apply the maintenance policy of one table, or of every table.

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``; every table when omitted.
        lineage: The ingestion registry (see :func:`~ratatouille.tables.expiry.expire`).

    Returns:
        ``{table: report}``. Over every table, a table that fails (for any reason) reports
        ``{"error": message}`` and the others still run; one named table raises instead.

    Raises:
        NotFound: The named table does not exist.
    """
    if identifier is not None:
        name = TableRef.parse(identifier).identifier
        return {name: maintain_table(catalog, name, lineage=lineage)}
    out: dict[str, dict[str, Any]] = {}
    for name in all_tables(catalog):
        try:
            out[name] = maintain_table(catalog, name, lineage=lineage)
        except Exception as e:  # one table's trouble (even a storage error) does not stop the others
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    return out


def after_write(
    catalog: Catalog, table: Table, identifier: str, lineage: Callable[[], Lineage | None] | None
) -> dict[str, Any] | None:
    """The light maintenance a write does right after its commit: cap main's history.

    When main has more than ``max_snapshots`` (plus a fifth, so that the expiry commit runs once every
    so many writes, not after each), its oldest snapshots are expired down to ``max_snapshots`` (branch
    and tag heads kept; files no snapshot uses any more deleted). Every snapshot costs each later write
    metadata work, so the cap keeps a write on an old table as cheap as on a young one.

    The write has committed when this runs: a failure here is reported as a warning, never raised (the
    next write tries again, and ``ice_maintain`` does the same work).

    Args:
        catalog: The catalog.
        table: The table as the write committed it.
        identifier: ``namespace.table``.
        lineage: Makes the ingestion registry, told what ancestry the expiry cuts (called only when
            something expires).

    Returns:
        The expiry report, or None when there was nothing to do.
    """
    from pyiceberg.table.snapshots import ancestors_of

    policy = policy_of(table)
    cap = policy.max_snapshots
    if not policy.enabled or not cap:
        return None
    main = table.metadata.snapshot_by_name(MAIN)
    if main is None or len(table.metadata.snapshots) <= cap + max(1, cap // 5):
        return None
    if sum(1 for _ in ancestors_of(main, table.metadata)) <= cap:
        return None  # the snapshots are on other branches: expiry of main would not remove them
    try:
        return expire(
            catalog, identifier, older_than="0s", retain_last=cap, lineage=lineage() if lineage else None
        )
    except Exception as e:
        warnings.warn(f"automatic expiry of {identifier} failed (the write is committed): {e}", stacklevel=2)
        return None
