"""The lakehouse session: settings, catalog, engine and the active branch, and what they do together.

A :class:`Lakehouse` is the object behind ``rat``. It owns no global state: two sessions in one process
may be on two branches. The engine is shared per process (chDB allows one embedded server per process).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .errors import InvalidInput, NotFound
from .incremental import Incremental
from .reading import MAIN, ResolvedTable, resolve
from .sql.expansion import TEMP_NAMESPACE, ExpandedSQL, expand
from .sqltext import TableRef, line_of, validate_branch_name, validate_identifier
from .staging import TEMP_DATABASE, create_from_arrow, qualified
from .tables.writing import WriteResult, delete_rows, write_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from .config import Settings
    from .engine import ClickHouseEngine, QueryStats

_IDENT_IN_MESSAGE = re.compile(r"identifier `([^`]+)`")


class Lakehouse:
    """One session on a lakehouse.

    A session made from the environment (no ``settings``) also starts on the branch ``RAT_BRANCH`` and
    with the provenance of ``RAT_CONTEXT`` (a JSON object) and ``RAT_CONTEXT_<KEY>`` variables (key
    lower-cased): this is how a pipeline run puts a notebook's ``rat`` on the run's branch.

    Args:
        settings: Where the lakehouse is; :meth:`Settings.from_env` when omitted.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        from .config import Settings

        self.settings = settings or Settings.from_env()
        self._catalog: Catalog | None = None
        self._lock = threading.RLock()
        self.branch: str = MAIN
        #: Provenance stamped on every snapshot this session commits (notebook, cell, pipeline run...).
        self.context: dict[str, str] = {}
        self._temp_tables: set[str] = set()
        if settings is None:
            self._start_from_environ(os.environ)

    def _start_from_environ(self, environ: Mapping[str, str]) -> None:
        """Apply ``RAT_BRANCH``, ``RAT_CONTEXT`` and ``RAT_CONTEXT_<KEY>`` (see the class docstring)."""
        if environ.get("RAT_BRANCH"):
            self.use_branch(environ["RAT_BRANCH"])
        if environ.get("RAT_CONTEXT"):
            try:
                values = json.loads(environ["RAT_CONTEXT"])
            except ValueError as e:
                raise InvalidInput(f"RAT_CONTEXT is not JSON: {e}") from e
            if not isinstance(values, dict):
                raise InvalidInput("RAT_CONTEXT must be a JSON object")
            self.context.update({str(k): str(v) for k, v in values.items() if v is not None})
        for key, value in environ.items():
            if key.startswith("RAT_CONTEXT_") and len(key) > 12 and value:
                self.context[key[12:].lower()] = value

    # -- components (opened lazily: creating a session is free) ----------------------------------------

    @property
    def catalog(self) -> Catalog:
        """The Iceberg catalog."""
        with self._lock:
            if self._catalog is None:
                from .catalog import open_catalog

                self._catalog = open_catalog(self.settings)
            return self._catalog

    @property
    def engine(self) -> ClickHouseEngine:
        """The process's engine for these settings."""
        from .engine import engine_for

        return engine_for(self.settings)

    # -- branches ----------------------------------------------------------------------------------------

    def use_branch(self, name: str | None) -> None:
        """Make ``name`` the branch every read and write of this session goes to (None or main: main)."""
        self.branch = MAIN if not name else validate_branch_name(name)

    # -- SQL -----------------------------------------------------------------------------------------------

    def resolve(self, ref: TableRef | str) -> ResolvedTable:
        """Resolve a reference against this session's active branch."""
        table_ref = ref if isinstance(ref, TableRef) else TableRef.parse(ref)
        _refuse_staging(table_ref)
        if table_ref.new:
            raise InvalidInput(
                f"{{{table_ref}}} reads the rows a transform's target has not consumed yet: use it in "
                "the SQL of rat.transform(sql, target)"
            )
        return resolve(self.catalog, table_ref, self.branch)

    def expand(
        self, sql: str, cached: bool = False, fill: bool = True, incremental: Incremental | None = None
    ) -> ExpandedSQL:
        """Replace each ``{ns.t}`` reference (and ``{temp.name}``) by a snapshot-pinned read.

        Each reference reads only the data files that may hold rows its query keeps (file pruning,
        see :mod:`ratatouille.sql.pruning`), unless inside ``pruning_disabled()``.

        Args:
            sql: The SQL with references.
            cached: Let the snapshot cache serve the reads (see :mod:`.engine.cache`); off for SQL that
                is shown or handed to another engine.
            fill: With ``cached``, also fill the cache with a snapshot it lacks (off for one-shot reads,
                such as a transform's, which a fill of every column would only slow down).
            incremental: The positions ``{ns.t@new}`` references read from (a transform's); without
                it, ``@new`` is refused.
        """
        return expand(self, sql, cached=cached, fill=fill, incremental=incremental)

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        stats: QueryStats | None = None,
        fill: bool = True,
    ) -> pa.Table:
        """Run SQL with ``{ns.t}`` references; return Arrow.

        Args:
            sql: The SQL.
            parameters: Values of its ``{name:Type}`` parameters.
            stats: Filled with what the query did, and which tables the snapshot cache served.
            fill: Fill the snapshot cache with the snapshots read (False: use only what it holds, for a
                read that needs a few rows, such as a preview).
        """
        return self._run(self.expand(sql, cached=True, fill=fill), parameters, stats)

    def _run(
        self, expanded: ExpandedSQL, parameters: Mapping[str, Any] | None, stats: QueryStats | None = None
    ) -> pa.Table:
        from .engine.errors import EngineSQLError

        try:
            result = self.engine.query_arrow(expanded.sql, parameters=parameters, stats=stats)
        except EngineSQLError as e:
            if expanded.from_cache and _lost_cache_table(str(e), expanded.cached):
                # Another thread evicted an entry between the expansion and the run: read the files.
                for name in expanded.cached:
                    self.engine.cache.forget(name)
                return self._run(self.expand(expanded.original), parameters, stats)
            if e.position is not None:
                # Map the engine's position in the expanded text back to the user's line.
                e.line = line_of(expanded.original, expanded.original_offset(e.position))
            elif (m := _IDENT_IN_MESSAGE.search(str(e))) and (at := expanded.original.find(m.group(1))) >= 0:
                e.line = line_of(expanded.original, at)
            e.sql = expanded.original
            raise
        if stats is not None:
            served = zip(expanded.tables, expanded.cached, strict=True)
            stats.cached = [".".join(t.table.name()) for t, name in served if name]
        return result

    def preview(self, sql: str, target: str | None = None) -> str:
        """The SQL the engine would run (references expanded; it holds no credential).

        With ``target``, ``{ns.t@new}`` references read what a transform to ``target`` would read now.
        """
        incremental = None
        if target is not None:
            identifier = self.write_target(target).identifier
            incremental = Incremental.load(self.catalog, identifier, self.branch)
        return self.expand(sql, incremental=incremental).sql

    # -- writes ----------------------------------------------------------------------------------------

    def write(
        self,
        data: pa.Table,
        target: str,
        mode: str = "append",
        merge_keys: list[str] | str | None = None,
        operation: str | None = None,
        context: Mapping[str, Any] | None = None,
        partition_by: str | Sequence[str] | None = None,
        source_snapshot: int | None = None,
    ) -> WriteResult:
        """Write Arrow data to ``target`` on the active branch (see ``tables.writing.write_table``)."""
        ref = self.write_target(target)
        keys = [merge_keys] if isinstance(merge_keys, str) else merge_keys
        context = {**({"merge_keys": ",".join(keys)} if keys else {}), **(context or {})}
        return write_table(
            self.catalog,
            self.engine,
            data,
            ref.identifier,
            mode=mode,
            merge_keys=keys,
            branch=self.branch,
            context={**self.context, **(context or {})},
            operation=operation,
            partition_by=partition_by,
            after_commit=self.after_commit(ref.identifier),
            source_snapshot=source_snapshot,
        )

    def delete(self, target: str, predicate: str) -> WriteResult:
        """Delete the rows of ``target`` where ``predicate`` is true, on the active branch; one commit."""
        ref = self.write_target(target)
        return delete_rows(
            self.catalog, self.engine, ref.identifier, predicate, branch=self.branch, context=self.context,
            after_commit=self.after_commit(ref.identifier),
        )  # fmt: skip

    def after_commit(self, identifier: str) -> Callable[[Table], object]:
        """The light maintenance every write of this session runs after its commit (see ``after_write``)."""

        def run(table: Table) -> object:
            from .ingest.registry import Registry
            from .tables.maintain import after_write

            return after_write(
                self.catalog, table, identifier, lineage=lambda: Registry(self.settings, self.catalog)
            )

        return run

    def write_target(self, target: str) -> TableRef:
        """``target`` parsed as a table a write may go to (not pinned, not temp or staging)."""
        ref = TableRef.parse(target)
        if ref.is_pinned:
            raise InvalidInput(f"cannot write to {target}: write to a table, not to a snapshot or ref")
        if ref.namespace == TEMP_NAMESPACE:
            raise InvalidInput("the 'temp' namespace holds session temp tables: use rat.temp(name, df)")
        _refuse_staging(ref)
        return ref

    def transform(
        self,
        sql: str,
        target: str,
        mode: str = "overwrite",
        merge_keys: list[str] | str | None = None,
        parameters: Mapping[str, Any] | None = None,
        partition_by: str | Sequence[str] | None = None,
        on_rewrite: str = "error",
    ) -> WriteResult:
        """Run SQL and write its result to ``target`` (see :func:`ratatouille.tables.transform.transform`)."""
        from .tables.transform import transform

        return transform(
            self, sql, target, mode=mode, merge_keys=merge_keys, parameters=parameters,
            partition_by=partition_by, on_rewrite=on_rewrite,
        )  # fmt: skip

    # -- temp tables -----------------------------------------------------------------------------------

    def temp_create(self, name: str, data: pa.Table) -> str:
        """Create (or replace) the session temp table ``{temp.name}``."""
        validate_identifier(name, "temp table name")
        create_from_arrow(self.engine, TEMP_DATABASE, self._temp_engine_name(name), data, replace=True)
        self._temp_tables.add(name)
        return f"{{{TEMP_NAMESPACE}.{name}}}"

    def temp_names(self) -> list[str]:
        """Names of this session's temp tables."""
        return sorted(self._temp_tables)

    def temp_drop(self, name: str | None = None) -> list[str]:
        """Drop one temp table, or all of this session's when ``name`` is None."""
        names = [name] if name else sorted(self._temp_tables)
        for n in names:
            if n not in self._temp_tables:
                raise NotFound(
                    f"no temp table {n!r} (this session has: {', '.join(self.temp_names()) or 'none'})"
                )
            self.engine.command(f"DROP TABLE IF EXISTS {qualified(TEMP_DATABASE, self._temp_engine_name(n))}")
            self._temp_tables.discard(n)
        return names

    def _temp_engine_name(self, name: str) -> str:
        # Temp tables are per session: several sessions of one process share the engine.
        return f"s{id(self):x}_{name}"

    def temp_source(self, ref: TableRef) -> str:
        """The engine table behind ``{temp.name}``."""
        if ref.name not in self._temp_tables:
            raise NotFound(
                f"no temp table {ref.name!r}; create it with rat.temp({ref.name!r}, df) "
                f"(this session has: {', '.join(self.temp_names()) or 'none'})"
            )
        return qualified(TEMP_DATABASE, self._temp_engine_name(ref.name))

    def close(self) -> None:
        """Drop this session's temp tables."""
        if self._temp_tables:
            self.temp_drop()


def _lost_cache_table(message: str, names: list[str]) -> bool:
    """True when the engine's error names one of the snapshot cache's tables as missing."""
    tables = [name.rsplit(".", 1)[-1].strip("`") for name in names if name]
    missing = "Unknown table" in message or "does not exist" in message or "doesn't exist" in message
    return missing and any(table in message for table in tables)


def _refuse_staging(ref: TableRef) -> None:
    from .branches.hidden import STAGING_NAMESPACE

    if ref.namespace == STAGING_NAMESPACE:
        raise InvalidInput(
            f"the {STAGING_NAMESPACE!r} namespace holds the tables created on dev branches: "
            "name them by their real name on their branch"
        )
