"""The ``rat`` facade: the SDK contract's calls, thin over :class:`~ratatouille.session.Lakehouse`.

``from ratatouille import rat`` is free: the session (settings, catalog, engine) opens on first use.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import InvalidInput
from .frames import clean, nulls, to_arrow
from .sdk_checks import ChecksMixin
from .sdk_dev import DevMixin
from .sdk_docs import DocsMixin
from .sdk_files import FilesMixin
from .sdk_serving import ServingMixin
from .sdk_tables import TablesMixin
from .sqltext import TableRef, has_references

if TYPE_CHECKING:
    from pathlib import Path

    from .charts import Chart
    from .config import Settings
    from .engine.cache import CacheInfo
    from .ibis_bridge import RatTable
    from .session import Lakehouse


def default_mode(mode: str | None, merge_keys: list[str] | str | None) -> str:
    """``merge`` when keys are given and no mode is, else ``overwrite``."""
    if mode is not None:
        return mode
    return "merge" if merge_keys else "overwrite"


class Rat(ChecksMixin, DevMixin, DocsMixin, FilesMixin, ServingMixin, TablesMixin):
    """The SDK. Every call runs on :attr:`session`, opened lazily from the environment.

    The calls of each feature live in a mixin of their own: :class:`~ratatouille.sdk_dev.DevMixin`,
    :class:`~ratatouille.sdk_files.FilesMixin`, :class:`~ratatouille.sdk_serving.ServingMixin`.
    """

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

    def cache_info(self) -> CacheInfo:
        """The snapshot cache: entries, bytes, hits and misses (``.summary()`` says it in one line)."""
        return self.session.engine.cache.info()

    def cache_clear(self) -> int:
        """Drop every cached snapshot, forget fill failures, reset the counters; return the count dropped."""
        return self.session.engine.cache.clear()

    def transform_preview(self, sql: str, target: str | None = None) -> str:
        """The SQL the engine will run, references expanded (it never holds a secret).

        With ``target``, ``{ns.t@new}`` reads what a transform to ``target`` would read now.
        """
        return self.session.preview(sql, target=target)

    def chart(
        self,
        data: Any,
        kind: str = "bar",
        x: str | None = None,
        y: str | None = None,
        color: str | None = None,
    ) -> Chart:
        """A Vega-Lite chart of a result, a table or SQL (shown as a chart in JupyterLab).

        Args:
            data: A DataFrame or Arrow table, or what :meth:`df` takes (``ns.t`` or SQL, run first).
            kind: ``bar``, ``line``, ``area``, ``scatter`` or ``histogram``.
            x: The column along x (for a histogram: the column whose values are counted).
            y: Summed per x (bar, line, area; rows are counted without it); the y column of a scatter.
            color: A column splitting the marks by color.

        Large results are reduced first (sums per x, a sample of a scatter's points, a histogram's bins);
        ``Chart.note`` says what was done, and the chart shows it under its title.

        Raises:
            InvalidInput: An unknown kind or column (the message lists the choices).
        """
        from .charts import chart

        table = self.arrow(_as_sql(data)) if isinstance(data, str) else data
        return chart(table, kind, x=x, y=y, color=color)

    # -- writing ---------------------------------------------------------------------------------------

    def ice_ingest_df(
        self, df: Any, table: str, mode: str = "append", partition_by: list[str] | str | None = None
    ) -> int:
        """Write a DataFrame to a table; return the rows written.

        Args:
            df: A pandas DataFrame (or Arrow table).
            table: ``namespace.table``; created when missing.
            mode: ``append``, ``overwrite`` or ``overwrite_partitions``.
            partition_by: Partition terms when the call creates the table, e.g. ``["day(ts)"]``.
        """
        data = to_arrow(df)
        return self.session.write(
            data, table, mode=mode, operation=f"ingest_df:{mode}", partition_by=partition_by
        ).rows

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
        partition_by: list[str] | str | None = None,
        on_rewrite: str = "error",
    ) -> dict[str, Any]:
        """Run SQL and write the result to ``target``.

        Args:
            sql: ClickHouse SQL with ``{ns.t}`` references.
            target: ``namespace.table``.
            merge_keys: Key columns; given without ``mode``, the write is a merge.
            mode: ``append``, ``overwrite`` (the default without keys), ``overwrite_partitions`` (replace
                only the partitions present in the result) or ``merge``.
            params: Query parameters.
            partition_by: Partition terms when the call creates the table, such as
                ``["day(event_ts)", "bucket(16, user_id)"]`` (a plain column is identity).
            on_rewrite: What a ``{ns.t@new}`` read does when that table's rows were changed or removed
                (merge, delete, overwrite) since ``target`` last consumed it: ``error`` (the default: a
                clear error, nothing written) or ``full`` (read every ``@new`` table in full; an append
                then replaces the target).

        Returns:
            ``rows`` (or ``inserted``/``updated``), ``mode``, ``target``, ``branch``, ``snapshot_id``.
        """
        result = self.session.transform(
            sql, target, mode=default_mode(mode, merge_keys), merge_keys=merge_keys, parameters=params,
            partition_by=partition_by, on_rewrite=on_rewrite,
        )  # fmt: skip
        return result.to_dict()

    def t(self, ref: str) -> RatTable:
        """An Ibis table expression over a lakehouse table."""
        from .ibis_bridge import RatTable, ibis_table

        return RatTable(self.session, ibis_table(self.session, ref))

    def to_iceberg(
        self,
        expr: Any,
        target: str,
        merge_keys: list[str] | str | None = None,
        mode: str | None = None,
        partition_by: list[str] | str | None = None,
    ) -> dict[str, Any]:
        """Write an Ibis expression's result to ``target`` (arguments as in :meth:`transform`)."""
        from .ibis_bridge import to_sql

        return self.transform(
            to_sql(expr), target, merge_keys=merge_keys, mode=mode, partition_by=partition_by
        )

    # -- catalog ---------------------------------------------------------------------------------------

    def ice_namespaces(self) -> list[str]:
        """All namespaces (on a dev branch, with those of the tables created on it)."""
        from .catalog import list_namespaces

        return list_namespaces(self.session.catalog, self.session.branch)

    def ice_tables(self, namespace: str = "bronze") -> list[str]:
        """Table names of a namespace (on a dev branch, with the tables created on it)."""
        from .catalog import list_tables
        from .sqltext import validate_identifier

        return list_tables(
            self.session.catalog, validate_identifier(namespace, "namespace"), self.session.branch
        )

    def ice_all(self) -> dict[str, list[str]]:
        """``{namespace: [tables]}`` for the whole lakehouse."""
        return {ns: self.ice_tables(ns) for ns in self.ice_namespaces()}

    def ice_drop(self, table: str, purge: bool = True, force: bool = False) -> None:
        """Drop a table (and its files, with ``purge``).

        In dev mode the table is main's too, with every branch and snapshot: the call is refused unless
        ``force=True`` (``rat.dev_drop()`` drops the branch instead, leaving main as it is). A table
        created on the branch (not published yet) is the branch's own: it is dropped.

        Raises:
            Conflict: In dev mode without ``force``; nothing is dropped.
        """
        from .catalog import drop_table
        from .errors import Conflict
        from .reading import MAIN

        identifier = TableRef.parse(table).identifier
        branch = self.session.branch
        if branch != MAIN:
            from .branches.hidden import find_staged, staged_identifier

            if find_staged(self.session.catalog, identifier, branch) is not None:  # the branch's own table
                drop_table(self.session.catalog, staged_identifier(identifier, branch), purge=purge)
                return
        if branch != MAIN and not force:
            raise Conflict(
                f"dropping {identifier} would drop it on main and on every branch, not only on {branch!r}: "
                "rat.dev_drop() drops the branch; leave dev mode, or pass force=True, to drop the table"
            )
        drop_table(self.session.catalog, identifier, purge=purge)

    def ice_history(self, table: str) -> pd.DataFrame:
        """The snapshots of a table, oldest first, with provenance."""
        from .catalog import load_table
        from .history import snapshot_rows

        rows = snapshot_rows(
            load_table(self.session.catalog, TableRef.parse(table).identifier, self.session.branch)
        )
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

        return str(
            load_table(self.session.catalog, TableRef.parse(table).identifier, self.session.branch).location()
        )

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

    # -- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def nulls(df: pd.DataFrame) -> pd.DataFrame:
        """NULL profile of a DataFrame."""
        return nulls(df)

    @staticmethod
    def clean(
        df: pd.DataFrame,
        markers: list[str] | None = None,
        columns: list[str] | None = None,
        extra_markers: list[str] | None = None,
    ) -> pd.DataFrame:
        """Null-like strings to missing values (see :func:`ratatouille.frames.clean`).

        ``markers`` replaces the default markers; ``extra_markers`` adds to them.
        """
        return clean(df, markers=markers, columns=columns, extra_markers=extra_markers)

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
