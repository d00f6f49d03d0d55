"""The ``rat`` facade: the SDK contract's calls, thin over :class:`~ratatouille.session.Lakehouse`.

``from ratatouille import rat`` is free: the session (settings, catalog, engine) opens on first use.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InvalidInput
from .frames import clean, nulls, to_arrow
from .sqltext import TableRef, has_references

if TYPE_CHECKING:
    from pathlib import Path

    from .config import Settings
    from .ibis_bridge import RatTable
    from .session import Lakehouse


def default_mode(mode: str | None, merge_keys: list[str] | str | None) -> str:
    """``merge`` when keys are given and no mode is, else ``overwrite``."""
    if mode is not None:
        return mode
    return "merge" if merge_keys else "overwrite"


class Rat:
    """The SDK. Every call runs on :attr:`session`, opened lazily from the environment."""

    def __init__(self, session: Lakehouse | None = None) -> None:
        self._session = session
        self._lock = threading.Lock()

    # -- the session -----------------------------------------------------------------------------------

    @property
    def session(self) -> Lakehouse:
        """The lakehouse session (from ``RAT_*`` settings, on first use)."""
        with self._lock:
            if self._session is None:
                from .session import Lakehouse

                self._session = Lakehouse()
            return self._session

    def connect(self, settings: Settings | None = None, *, home: str | Path | None = None) -> Lakehouse:
        """Point ``rat`` at another lakehouse (settings, or an embedded one in ``home``)."""
        from .config import Settings
        from .session import Lakehouse

        if settings is None:
            settings = Settings.for_home(home) if home is not None else Settings.from_env()
        with self._lock:
            if self._session is not None:
                self._session.close()
            self._session = Lakehouse(settings)
            return self._session

    @property
    def settings(self) -> Settings:
        """The active settings."""
        return self.session.settings

    # -- reading and querying --------------------------------------------------------------------------

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run ClickHouse SQL (with ``{ns.t}`` references) and return a DataFrame."""
        df: pd.DataFrame = self.session.query_arrow(sql, parameters=params).to_pandas()
        return df

    def arrow(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """Like :meth:`query`, returning an Arrow table."""
        return self.session.query_arrow(sql, parameters=params)

    def df(self, ref: str) -> pd.DataFrame:
        """A table (``"{ns.t}"`` or ``"ns.t"``, refs allowed) or the result of SQL, as a DataFrame."""
        return self.query(_as_sql(ref))

    def ice_read(self, table: str) -> pd.DataFrame:
        """A whole table as a DataFrame."""
        return self.query(f"SELECT * FROM {{{TableRef.parse(table)}}}")

    def transform_preview(self, sql: str) -> str:
        """The SQL the engine will run, references expanded (it never holds a secret)."""
        return self.session.preview(sql)

    # -- writing ---------------------------------------------------------------------------------------

    def ice_ingest_df(self, df: Any, table: str, mode: str = "append") -> int:
        """Write a DataFrame to a table; return the rows written."""
        return self.session.write(to_arrow(df), table, mode=mode, operation=f"ingest_df:{mode}").rows

    def ice_merge(self, df: Any, table: str, merge_keys: list[str] | str) -> dict[str, int]:
        """Upsert a DataFrame by keys; return the measured ``{"inserted": n, "updated": n}``."""
        result = self.session.write(to_arrow(df), table, mode="merge", merge_keys=merge_keys)
        return {"inserted": result.inserted, "updated": result.updated}

    def transform(
        self,
        sql: str,
        target: str,
        merge_keys: list[str] | str | None = None,
        mode: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run SQL and write the result to ``target``.

        Args:
            sql: ClickHouse SQL with ``{ns.t}`` references.
            target: ``namespace.table``.
            merge_keys: Key columns; given without ``mode``, the write is a merge.
            mode: ``append``, ``overwrite`` (the default without keys) or ``merge``.
            params: Query parameters.

        Returns:
            ``rows`` (or ``inserted``/``updated``), ``mode``, ``target``, ``branch``, ``snapshot_id``.
        """
        result = self.session.transform(
            sql, target, mode=default_mode(mode, merge_keys), merge_keys=merge_keys, parameters=params
        )
        return result.to_dict()

    def t(self, ref: str) -> RatTable:
        """An Ibis table expression over a lakehouse table."""
        from .ibis_bridge import RatTable, ibis_table

        return RatTable(self.session, ibis_table(self.session, ref))

    def to_iceberg(
        self, expr: Any, target: str, merge_keys: list[str] | str | None = None, mode: str | None = None
    ) -> dict[str, Any]:
        """Write an Ibis expression's result to ``target``."""
        from .ibis_bridge import to_sql

        return self.transform(to_sql(expr), target, merge_keys=merge_keys, mode=mode)

    # -- catalog ---------------------------------------------------------------------------------------

    def ice_namespaces(self) -> list[str]:
        """All namespaces."""
        from .catalog import list_namespaces

        return list_namespaces(self.session.catalog)

    def ice_tables(self, namespace: str = "bronze") -> list[str]:
        """Table names of a namespace."""
        from .catalog import list_tables
        from .sqltext import validate_identifier

        return list_tables(self.session.catalog, validate_identifier(namespace, "namespace"))

    def ice_all(self) -> dict[str, list[str]]:
        """``{namespace: [tables]}`` for the whole lakehouse."""
        return {ns: self.ice_tables(ns) for ns in self.ice_namespaces()}

    def ice_drop(self, table: str, purge: bool = True) -> None:
        """Drop a table (and its files, with ``purge``)."""
        from .catalog import drop_table

        drop_table(self.session.catalog, TableRef.parse(table).identifier, purge=purge)

    def ice_history(self, table: str) -> pd.DataFrame:
        """The snapshots of a table, oldest first, with provenance."""
        from .catalog import load_table
        from .history import snapshot_rows

        rows = snapshot_rows(load_table(self.session.catalog, TableRef.parse(table).identifier))
        columns = ["snapshot_id", "timestamp", "operation"]
        df = pd.DataFrame(rows, columns=None if rows else columns)
        # Snapshot ids are 64-bit: a float column (pandas' default when one value is missing) would
        # round them. Nullable integers keep them exact.
        for column in ("snapshot_id", "parent_id", "rows_added", "rows_deleted", "total_rows", "files_added"):
            if column in df.columns:
                df[column] = df[column].astype("Int64")
        return df

    def ice_time_travel(self, table: str, snapshot_id: int) -> pd.DataFrame:
        """A table as of one snapshot."""
        ref = TableRef.parse(table)
        if not isinstance(snapshot_id, int) or isinstance(snapshot_id, bool):
            raise InvalidInput(f"snapshot_id must be an integer, got {snapshot_id!r}")
        return self.query(f"SELECT * FROM {{{ref.identifier}@{snapshot_id}}}")

    def ice_location(self, table: str) -> str:
        """Where a table's files live."""
        from .catalog import load_table

        return str(load_table(self.session.catalog, TableRef.parse(table).identifier).location())

    # -- dev mode (branches) ------------------------------------------------------------------------

    def dev(self, name: str | None = None) -> str:
        """Switch the session to dev branch ``name`` (None: back to main); return the active branch."""
        if name is None:
            self.session.use_branch(None)
        else:
            self.dev_start(name)
        return self.session.branch

    def dev_start(self, name: str, tables: list[str] | None = None) -> dict[str, Any]:
        """Start (or resume) dev branch ``name``: every read and write of the session goes to it.

        Args:
            name: The branch name (not ``main``).
            tables: Tables to branch from main now; the others join the branch on their first write.
        """
        from .branches import start

        branched = start(self.session, name, tables)
        return {"branch": name, "branched": branched}

    def dev_status(self) -> dict[str, Any]:
        """The active branch and, per table on it, how far it is ahead and whether main moved."""
        from .branches import tables_on
        from .reading import MAIN

        branch = self.session.branch
        tables = [] if branch == MAIN else [s.as_dict() for s in tables_on(self.session, branch)]
        return {"branch": branch, "tables": tables}

    def dev_diff(self, table: str, branch: str | None = None, key: list[str] | None = None) -> Any:
        """What the branch changed in ``table`` against main (counts, schema changes, examples)."""
        from .branch_diff import diff

        return diff(self.session, table, self._branch_arg(branch), key=key)

    def dev_merge(self, branch: str | None = None, rebase: bool = False) -> dict[str, Any]:
        """Publish the branch: fast-forward main on every table written on it, all or nothing."""
        from .branches import publish

        return publish(self.session, self._branch_arg(branch), rebase=rebase)

    def dev_drop(self, branch: str | None = None) -> list[str]:
        """Remove the branch from every table (the session returns to main if it was on it)."""
        from .branches import drop

        return drop(self.session, self._branch_arg(branch))

    def dev_branches(self, table: str | None = None) -> pd.DataFrame:
        """Branches other than main: one row per (branch, table), with head, fork and status."""
        from .branches import list_branches

        columns = ["branch", "table", "head", "fork", "main_head", "ahead", "main_moved"]
        rows = [s.as_dict() for s in list_branches(self.session, table)]
        return pd.DataFrame(rows, columns=columns)

    def dev_context(self, name: str, tables: list[str] | None = None) -> Any:
        """A context manager: work on branch ``name`` inside the block, back to the previous branch after."""
        from contextlib import contextmanager

        @contextmanager
        def scope() -> Any:
            previous = self.session.branch
            self.dev_start(name, tables)
            try:
                yield self
            finally:
                self.session.use_branch(previous)

        return scope()

    def expire(self, older_than: Any = None, table: str | None = None) -> dict[str, int]:
        """Expire snapshots older than a timedelta or datetime (default 7 days); heads are kept."""
        import datetime as dt

        from .branches import expire

        return expire(self.session, older_than or dt.timedelta(days=7), table)

    def _branch_arg(self, branch: str | None) -> str:
        from .reading import MAIN

        name = branch or self.session.branch
        if name == MAIN:
            raise InvalidInput("no dev branch is active: name one, or start one with rat.dev_start(name)")
        return name

    # -- files and ingestion ---------------------------------------------------------------------------

    def ice_ingest(
        self,
        source: str,
        table: str,
        sheet: int | str | list[int | str] | None = 0,
        mode: str = "append",
        extract_from_filename: str | None = None,
        parser: str | Any = None,
        **options: Any,
    ) -> tuple[pd.DataFrame, int]:
        """Ingest one file (CSV, TSV, Excel, JSON, NDJSON, Parquet) into a table; return ``(df, rows)``.

        Adds ``_source_file`` and ``_ingested_at``; ``extract_from_filename`` is a regex whose named groups
        become columns. Options (``format``, ``header``, ``delimiter``, ``encoding``, ``null_markers``,
        ``schema``, ``dtypes``, ``track``, ``memory_mb``, ``progress``...) are in docs/ingestion.md.
        """
        from .ingest import ingest_file

        return ingest_file(self.session, source, table, sheet, mode, extract_from_filename, parser, **options)

    def ice_ingest_batch(
        self,
        source_prefix: str,
        table: str,
        sheet: int | str | list[int | str] | None = 0,
        mode: str = "append",
        extract_from_filename: str | None = None,
        parser: str | Any = None,
        file_filter: str | Any = None,
        skip_existing: bool = False,
        on_error: str = "raise",
        **options: Any,
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Ingest every file under a prefix (or matching a glob) in one commit; return ``(df, stats)``.

        ``stats`` has ``files, rows, errors, skipped, already_ingested``. All or nothing unless
        ``on_error="skip"``, which commits the good files and lists the failed ones in ``errors``.
        """
        from .ingest import ingest_batch

        return ingest_batch(self.session, source_prefix, table, sheet, mode, extract_from_filename, parser,
                            file_filter, skip_existing, on_error, **options)  # fmt: skip

    def ingestion_history(self, table: str | None = None) -> pd.DataFrame:
        """The ingested-files registry (successes and failures), newest first."""
        from .ingest import history

        return history(self.session, table)

    def reset_ingestion(self, table: str | None = None) -> int:
        """Forget which files were ingested into a table (or all tables); return the records removed."""
        from .ingest import reset

        return reset(self.session, table)

    def parsers(self) -> dict[str, str]:
        """Built-in formats and custom parsers: ``{name: description}``."""
        from .ingest import available_parsers

        return available_parsers()

    def register_parser(self, name: str, func: Any, description: str | None = None) -> None:
        """Register ``func(data: BytesIO, filename) -> DataFrame`` as parser ``name`` (for this process)."""
        from .ingest import register_parser

        register_parser(name, func, description)

    def read(self, path: str, where: str = "", limit: int | None = None) -> pd.DataFrame:
        """Parquet files (globs allowed) from the landing zone or a URI."""
        from .files import read

        return read(self.session, path, where=where, limit=limit)

    def write(self, df: Any, path: str) -> str:
        """Write one Parquet file into the landing zone or a URI; return the path written."""
        from .files import write

        return write(self.session, df, path)

    def ls(self, path: str = "") -> list[str]:
        """Every file under a path (the landing zone by default); S3 listings are not cut at 1,000."""
        from .files import ls

        return ls(self.session, path)

    def buckets(self) -> list[str]:
        """The S3 buckets reachable with the settings (empty without S3)."""
        from .files import buckets

        return buckets(self.session)

    def read_file(self, path: str) -> tuple[Any, str]:
        """A file's bytes (``BytesIO``) and extension."""
        from .files import read_file

        return read_file(self.session, path)

    # -- temp tables -----------------------------------------------------------------------------------

    def temp(self, name: str, df: Any = None) -> Any:
        """Create ``{temp.name}`` from a DataFrame, or read it back when ``df`` is None."""
        if df is None:
            return self.query(f"SELECT * FROM {{temp.{name}}}")
        return self.session.temp_create(name, to_arrow(df))

    def temp_list(self) -> list[str]:
        """This session's temp tables."""
        return self.session.temp_names()

    def temp_drop(self, name: str | None = None) -> list[str]:
        """Drop one temp table, or all of them."""
        return self.session.temp_drop(name)

    # -- serving layer (ClickHouse) ------------------------------------------------------------------

    def publish(
        self, table: str, mode: str = "live", name: str | None = None, order_by: str = "tuple()",
        every: str = "1 HOUR",
    ) -> dict[str, Any]:  # fmt: skip
        """Make a lakehouse table a ClickHouse server table that BI tools query (port 8123).

        Modes: ``live`` (``IcebergS3`` table, zero copy, follows main), ``pinned`` (zero copy, fixed at the
        catalog's current state), ``snapshot`` (MergeTree copy of one snapshot), ``refresh`` (refreshable
        materialized view, every ``every``). See docs/operations.md. Needs the full stack (``make up``).
        """
        from .serving import publish

        return publish(self.session, table, mode, name=name, order_by=order_by, every=every)

    def materialize(self, table_name: str, source: str, order_by: str = "tuple()") -> dict[str, Any]:
        """Store the result of SQL (``{ns.t}`` references) or a table as a MergeTree table on the server."""
        from .serving import materialize

        return materialize(self.session, table_name, source, order_by)

    def tables(self, database: str | None = None) -> pd.DataFrame:
        """The ClickHouse tables made by ``publish`` and ``materialize``."""
        from .serving import tables

        return tables(self.session, database)

    def describe(self, table: str) -> dict[str, Any]:
        """A served table: mode, sources, columns, rows, and whether main moved since (``stale``)."""
        from .serving import describe

        return describe(self.session, table)

    def drop(self, table: str, force: bool = False) -> str:
        """Drop a served ClickHouse table (the lakehouse table is untouched)."""
        from .serving import drop

        return drop(self.session, table, force=force)

    def clickhouse(self) -> Any:
        """A clickhouse-connect client on the session's engine (the ClickHouse server in the full stack)."""
        from .serving import clickhouse_client

        return clickhouse_client(self.settings)

    # -- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def nulls(df: pd.DataFrame) -> pd.DataFrame:
        """NULL profile of a DataFrame."""
        return nulls(df)

    @staticmethod
    def clean(
        df: pd.DataFrame, markers: list[str] | None = None, columns: list[str] | None = None
    ) -> pd.DataFrame:
        """Null-like strings to missing values (see :func:`ratatouille.frames.clean`)."""
        return clean(df, markers=markers, columns=columns)

    def __repr__(self) -> str:
        if self._session is None:
            return "<rat: not connected yet>"
        return f"<rat: {self._session.settings.home} on branch {self._session.branch}>"


def _as_sql(ref: str) -> str:
    """``ns.t`` / ``{ns.t}`` become ``SELECT *``; anything else is SQL."""
    if not isinstance(ref, str):
        raise InvalidInput(f"expected a table name or SQL text, got {type(ref).__name__}")
    text = ref.strip()
    try:
        table = TableRef.parse(text)
    except InvalidInput:
        if not has_references(text) and " " not in text:
            raise
        return text
    return f"SELECT * FROM {{{table}}}"
