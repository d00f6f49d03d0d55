"""Orphan sweep: delete files under a table's location that no snapshot and no metadata file references.

Orphans come from writers that died or lost a commit race after writing their files, and from expiries
that could not delete everything. A writer's files exist BEFORE its commit references them, so a file
is deleted only when it is also older than a minimum age, never below
:data:`~ratatouille.tables.policy.ORPHAN_AGE_FLOOR`: an in-flight writer's files survive. The folder is
listed first and the metadata read after, so a commit that lands between the two is seen.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..catalog import load_table
from ..errors import InvalidInput
from .expiry import referenced_files
from .policy import ORPHAN_AGE_FLOOR, parse_duration, policy_of

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def _key(uri: str) -> str:
    """A location without its scheme, as both metadata URIs and filesystem listings can be compared."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return parsed.path
    return f"{parsed.netloc}{parsed.path}"


def _filesystem(table: Table) -> tuple[FileSystem, str]:
    """The table's filesystem (through its FileIO, with its credentials) and its root folder there."""
    from pyarrow.fs import FileSystem, LocalFileSystem

    location = table.location().rstrip("/")
    parsed = urlparse(location)
    if parsed.scheme in ("", "file"):
        return LocalFileSystem(), parsed.path
    if hasattr(table.io, "fs_by_scheme"):
        return table.io.fs_by_scheme(parsed.scheme, parsed.netloc), _key(location)
    fs, root = FileSystem.from_uri(location)
    return fs, root


def listing(table: Table) -> dict[str, dt.datetime]:
    """Every file under the table's location -> its modification time (UTC)."""
    from pyarrow.fs import FileSelector, FileType

    fs, root = _filesystem(table)
    out: dict[str, dt.datetime] = {}
    for info in fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type == FileType.File:
            mtime = info.mtime or dt.datetime.now(dt.UTC)
            out[info.path] = mtime if mtime.tzinfo else mtime.replace(tzinfo=dt.UTC)
    return out


def referenced(table: Table) -> set[str]:
    """Keys of every file the table's metadata references.

    Those are the current and logged metadata files, statistics files, and per snapshot (of any ref)
    its manifest list, manifests, and live data and delete files.
    """
    meta = table.metadata
    paths = {table.metadata_location, *(entry.metadata_file for entry in meta.metadata_log)}
    paths.update(s.statistics_path for s in meta.statistics)
    paths.update(s.statistics_path for s in getattr(meta, "partition_statistics", []))
    lists, manifests, files = referenced_files(table)
    paths |= lists | manifests | files
    return {_key(p) for p in paths}


def remove_orphans(
    catalog: Catalog,
    identifier: str,
    *,
    older_than: Any = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Delete the table's unreferenced files older than ``older_than``.

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``.
        older_than: Minimum age (timedelta or ``"3d"``-style string, at least one hour); the policy's
            ``orphan_min_age`` when omitted.
        dry_run: Only report what would be deleted.
        now: The time ages are measured from (the current time when omitted).

    Returns:
        ``listed`` (files under the location), ``orphans`` (unreferenced), ``deleted``, ``kept_recent``
        (unreferenced but younger than the minimum age) and, with ``dry_run``, ``would_delete``.

    Raises:
        NotFound: No such table.
        InvalidInput: A bad duration, or one below the one-hour floor.
    """
    table = load_table(catalog, identifier)
    min_age = (
        policy_of(table).orphan_min_age if older_than is None else parse_duration(older_than, "older_than")
    )
    if min_age < ORPHAN_AGE_FLOOR:
        raise InvalidInput(
            f"older_than must be at least {ORPHAN_AGE_FLOOR}: younger files may belong to a write that has "
            f"not committed yet (got {min_age})"
        )
    cutoff = (now or dt.datetime.now(dt.UTC)) - min_age
    files = listing(table)
    keep = referenced(load_table(catalog, identifier))  # read after listing: see the module docstring
    orphans = {path: mtime for path, mtime in files.items() if path not in keep}
    old = sorted(path for path, mtime in orphans.items() if mtime < cutoff)
    report: dict[str, Any] = {
        "listed": len(files),
        "orphans": len(orphans),
        "deleted": 0,
        "kept_recent": len(orphans) - len(old),
    }
    if dry_run:
        report["would_delete"] = old
        return report
    fs, _ = _filesystem(table)
    for path in old:
        try:
            fs.delete_file(path)
            report["deleted"] += 1
        except FileNotFoundError:
            continue
    return report
