"""The explorer service: everything the REST API answers, as plain Python over the ratatouille core.

Handlers only parse the request, call one method here in a worker thread and write its dict as JSON, so
this class is also what the benchmark and the tests drive without HTTP. It reads the catalog directly
(never through a kernel), with its own :class:`~ratatouille.session.Lakehouse` that stays on main.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ratatouille import __version__
from ratatouille.catalog import list_namespaces, load_table
from ratatouille.errors import ConfigError, InvalidInput, RatError
from ratatouille.history import snapshot_rows
from ratatouille.session import Lakehouse
from ratatouille.sqltext import TableRef, validate_branch_name, validate_identifier

from . import branch_actions
from .catalog_index import TableCache, change_marker, table_locations
from .describe import page_bounds, ref_list, sid, snapshot_page, table_detail
from .file_stats import FileStatsCache, file_fields
from .jsonsafe import arrow_rows
from .table_docs import CheckIndex, DescriptionIndex, check_fields, checks_marker, doc_fields

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from ratatouille.config import Settings

#: Version of the REST API; the frontend refuses to talk to a server with another one.
API_VERSION = 2


class ReadOnly(RatError):
    """A branch action or a compaction on an explorer configured read-only."""

    http_status = 403


@dataclass(frozen=True)
class Limits:
    """Bounds of what one request may ask for.

    Attributes:
        max_page_size: Most tables or snapshots in one page.
        default_page_size: Page size when the request names none.
        preview_max_rows: Most rows of one preview.
        preview_default_rows: Preview rows when the request names none.
        poll_interval_ms: How often the frontend polls ``/ratatouille/changes`` (0: never).
        read_only: Refuse branch actions and compaction.
    """

    max_page_size: int = 1000
    default_page_size: int = 100
    preview_max_rows: int = 500
    preview_default_rows: int = 50
    poll_interval_ms: int = 5000
    read_only: bool = False


class Explorer:
    """The lakehouse as the sidebar sees it.

    Args:
        settings: The lakehouse to explore; None when the settings could not be read (see
            ``config_error``).
        limits: Request bounds.
        max_workers: Threads that run catalog and engine calls off the server's event loop.
        config_error: Why the settings could not be read: every catalog call then raises it as a
            :class:`~ratatouille.errors.ConfigError`, so the sidebar shows it instead of a missing extension.
    """

    def __init__(
        self,
        settings: Settings | None,
        limits: Limits | None = None,
        max_workers: int = 4,
        config_error: str | None = None,
    ) -> None:
        self.settings = settings
        self.limits = limits or Limits()
        self._session = Lakehouse(settings) if settings is not None else None
        self._config_error = config_error or "the lakehouse settings could not be read"
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ratatouille-api")
        self._tables = TableCache()
        self._file_stats = FileStatsCache()
        self._descriptions = DescriptionIndex()
        self._check_status = CheckIndex()
        self._history: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._history_lock = threading.Lock()

    @property
    def lakehouse_settings(self) -> Settings:
        """The settings of the lakehouse explored.

        Raises:
            ConfigError: The settings could not be read when the server started, or the home is not a
                folder.
        """
        if self.settings is None:
            raise ConfigError(self._config_error)
        home = self.settings.home
        if home.exists() and not home.is_dir():
            raise ConfigError(f"the lakehouse home {home} is not a folder: set RAT_HOME to a folder")
        return self.settings

    @property
    def session(self) -> Lakehouse:
        """The explorer's own session (on main).

        Raises:
            ConfigError: The settings could not be read when the server started, or the home is not a
                folder.
        """
        settings = self.lakehouse_settings
        if self._session is None:
            self._session = Lakehouse(settings)
        return self._session

    @property
    def catalog(self) -> Catalog:
        """The catalog (opened on first use)."""
        return self.session.catalog

    def close(self) -> None:
        """Stop the worker threads and drop the session's temp state."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._session is not None:
            self._session.close()

    # -- reads -------------------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        """The handshake: package and API versions, and the limits the frontend should respect."""
        return {
            "name": "ratatouille",
            "version": __version__,
            "api_version": API_VERSION,
            "poll_interval_ms": self.limits.poll_interval_ms,
            "preview_max_rows": self.limits.preview_max_rows,
            "max_page_size": self.limits.max_page_size,
            "read_only": self.limits.read_only,
        }

    def namespaces(self) -> dict[str, Any]:
        """Every namespace name."""
        return {"items": [{"name": ns} for ns in list_namespaces(self.catalog)]}

    def tables(
        self, namespace: str | None = None, filter_text: str = "", offset: int = 0, limit: int | None = None
    ) -> dict[str, Any]:
        """One page of tables, optionally of one namespace and matching ``filter_text``.

        A table matches when its ``ns.name`` or its description contains the text (case-insensitive;
        descriptions are searched over a SQL catalog only, whose rows tell the metadata files). Each
        item carries the table's description and the status of its last checks.

        Raises:
            InvalidInput: A bad namespace, filter or page.
        """
        offset, limit = page_bounds(offset, self._page(limit), self.limits.max_page_size)
        if namespace is not None:
            validate_identifier(namespace, "namespace")
        if len(filter_text) > 200:
            raise InvalidInput("the filter is longer than 200 characters")
        needle = filter_text.strip().lower()
        rows = [r for r in table_locations(self.catalog) if namespace is None or r[0] == namespace]
        if needle:
            rows = [r for r in rows if needle in f"{r[0]}.{r[1]}".lower() or needle in self._description(r)]
        items = [self._listed(ns, t, loc) for ns, t, loc in rows[offset:][:limit]]
        return {"items": items, "total": len(rows), "offset": offset, "limit": limit}

    def _description(self, row: tuple[str, str, str]) -> str:
        return (self._descriptions.description(self.catalog, row[2]) or "").lower()

    def _listed(self, namespace: str, name: str, location: str) -> dict[str, Any]:
        identifier = f"{namespace}.{name}"
        return {
            "namespace": namespace,
            "name": name,
            "identifier": identifier,
            "description": self._descriptions.description(self.catalog, location),
            "check_status": self._check_status.status(self.lakehouse_settings, identifier),
        }

    def _page(self, limit: int | None) -> int:
        return self.limits.default_page_size if limit is None else limit

    def table(self, namespace: str, name: str) -> Table:
        """The current table (parsed metadata reused while unchanged).

        Raises:
            InvalidInput: A bad name.
            NotFound: No such table.
        """
        return self._tables.load(self.catalog, _identifier(namespace, name))

    def detail(
        self, namespace: str, name: str, ref: str | None = None, snapshot_id: int | None = None
    ) -> dict[str, Any]:
        """Schema, counts, partitioning, properties and refs of a table at a ref or snapshot.

        With the data files of the branch Compact would rewrite (see :func:`~.file_stats.file_fields`).
        """
        ref, snapshot_id = _at(ref, snapshot_id)
        table = self.table(namespace, name)
        detail = table_detail(table, ref, snapshot_id)
        detail.update(file_fields(table, ref, snapshot_id, self._file_stats))
        detail.update(doc_fields(table, detail["identifier"], ref))
        detail.update(check_fields(self.lakehouse_settings, detail["identifier"]))
        return detail

    def snapshots(
        self, namespace: str, name: str, ref: str | None = None, offset: int = 0, limit: int | None = None
    ) -> dict[str, Any]:
        """One page of a table's snapshots, newest first (only one branch's history with ``ref``)."""
        offset, limit = page_bounds(offset, self._page(limit), self.limits.max_page_size)
        if ref is not None:
            validate_branch_name(ref)
        table = self.table(namespace, name)
        return snapshot_page(table, ref, offset, limit, self._history_rows(table))

    def _history_rows(self, table: Table) -> list[dict[str, Any]]:
        """``snapshot_rows`` of a table, kept per metadata file (paging 10,000 snapshots stays cheap)."""
        key = table.metadata_location
        with self._history_lock:
            if key in self._history:
                self._history.move_to_end(key)
                return self._history[key]
        rows = snapshot_rows(table)
        with self._history_lock:
            self._history[key] = rows
            while len(self._history) > 8:
                self._history.popitem(last=False)
        return rows

    def refs(self, namespace: str, name: str) -> dict[str, Any]:
        """Branches and tags of a table."""
        return {"items": ref_list(self.table(namespace, name))}

    def preview(
        self,
        namespace: str,
        name: str,
        ref: str | None = None,
        snapshot_id: int | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """The first rows of a table at a ref or snapshot: ``SELECT * FROM {ns.t@ref} LIMIT n``.

        Only that statement runs: the names are validated identifiers, the ref a validated ref name or
        an integer snapshot id, and the limit a bounded integer; no text from the client is SQL.

        Raises:
            InvalidInput: A bad name, ref or limit.
            NotFound: No such table, ref or snapshot.
        """
        rows = limit if limit is not None else self.limits.preview_default_rows
        if not 1 <= rows <= self.limits.preview_max_rows:
            raise InvalidInput(f"limit must be between 1 and {self.limits.preview_max_rows}, got {rows}")
        ref, snapshot_id = _at(ref, snapshot_id)
        table_ref = TableRef(
            validate_identifier(namespace, "namespace"),
            validate_identifier(name, "table name"),
            ref=ref,
            snapshot_id=snapshot_id,
        )
        if TableRef.parse(str(table_ref)) != table_ref:  # e.g. a tag named like an ISO date
            raise InvalidInput(f"ref {ref!r} cannot be told from a snapshot id or time: rename it")
        sql = f"SELECT * FROM {{{table_ref}}} LIMIT {int(rows)}"
        data = self.session.query_arrow(sql, fill=False)  # a few rows: no copy of the whole snapshot
        return {"sql": sql, "limit": rows, **arrow_rows(data), "truncated": data.num_rows >= rows}

    def changes(self) -> dict[str, Any]:
        """The catalog's change marker, polled by the frontend to refresh after a write or a check run."""
        marker, count = change_marker(self.catalog)
        checks = checks_marker(self.lakehouse_settings)
        if checks:  # a stored check result refreshes the sidebar too
            marker = hashlib.sha256(f"{marker}|{checks}".encode()).hexdigest()[:32]
        return {"marker": marker, "tables": count}

    # -- branch actions ----------------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.limits.read_only:
            raise ReadOnly("the lakehouse explorer is read-only (RatatouilleApp.read_only is set)")

    def _writable(self, namespace: str, name: str) -> Table:
        self._check_writable()
        return load_table(self.catalog, _identifier(namespace, name))  # fresh: a write must see the head

    def create_branch(
        self, namespace: str, name: str, branch: str, source: str = "main", snapshot_id: int | None = None
    ) -> dict[str, Any]:
        """Create ``branch`` at ``source``'s head or at ``snapshot_id``."""
        return branch_actions.create_branch(self._writable(namespace, name), branch, source, snapshot_id)

    def fast_forward(self, namespace: str, name: str, branch: str, target: str = "main") -> dict[str, Any]:
        """Move ``target`` to ``branch``'s head when that is a fast-forward."""
        return branch_actions.fast_forward(self._writable(namespace, name), branch, target)

    def drop_branch(self, namespace: str, name: str, branch: str) -> dict[str, Any]:
        """Drop ``branch``."""
        return branch_actions.drop_branch(self._writable(namespace, name), branch)

    # -- maintenance -------------------------------------------------------------------------------

    def compact(
        self, namespace: str, name: str, branch: str = "main", user: str | None = None
    ) -> dict[str, Any]:
        """Bin-pack the small data files of ``branch``'s head (:func:`ratatouille.tables.compaction.compact`).

        Args:
            namespace: The table's namespace.
            name: The table's name.
            branch: The branch to compact.
            user: Who asked (stamped on the snapshot with ``maintenance=sidebar``).

        Returns:
            The core's report (``files_before``, ``files_after``, ``rewritten``, ``added``,
            ``bytes_before``, ``bytes_after``, ``skipped_old_spec``, ``snapshot_id`` as a string) and
            ``branch``.

        Raises:
            ReadOnly: The explorer is read-only.
            InvalidInput: A bad name or branch, a tag, or a table with row-level delete files.
            NotFound: No such table or branch.
            Conflict: Concurrent writers kept winning; nothing changed.
        """
        from ratatouille.tables.compaction import compact

        self._check_writable()
        identifier = _identifier(namespace, name)
        validate_branch_name(branch)
        context = {"maintenance": "sidebar", "user": user}
        report = compact(self.catalog, identifier, branch=branch, context=context)
        return {**report, "branch": branch, "snapshot_id": sid(report.get("snapshot_id"))}


def _identifier(namespace: str, name: str) -> str:
    return f"{validate_identifier(namespace, 'namespace')}.{validate_identifier(name, 'table name')}"


def _at(ref: str | None, snapshot_id: int | None) -> tuple[str | None, int | None]:
    """Check a ``ref``/``snapshot_id`` pair: at most one, a ref name that cannot read as a snapshot id."""
    if ref is not None and snapshot_id is not None:
        raise InvalidInput("pass either ref or snapshot_id, not both")
    if ref is not None:
        validate_branch_name(ref)
        if ref.isdigit():
            raise InvalidInput(f"ref {ref!r} reads as a snapshot id: pass snapshot_id={ref} instead")
    if snapshot_id is not None and snapshot_id < 0:
        raise InvalidInput(f"invalid snapshot id {snapshot_id}")
    return ref, snapshot_id
