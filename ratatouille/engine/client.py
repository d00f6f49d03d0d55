"""The engine over clickhouse-connect: chDB in this process (``chdb://``) or a ClickHouse server (``http(s)://``).

One engine per process and configuration (:func:`engine_for`): chDB allows a single embedded server per
process, and the lakehouse state lives in Iceberg alone, so nothing kept here is needed by other processes.
Data files are read with ``file()`` (local warehouse) or ``s3()`` (S3): through the server's named
collection, or in chDB with the keys bound as query parameters, so no credential ever appears in SQL text
(see :mod:`.sources`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..arrowtypes import fix_engine_arrow, needs_type_fix
from ..config import masked_url
from ..errors import EngineError
from ..sqltext import quote_literal
from .base import SESSION_TIMEZONE, ProgressCallback, QueryStats
from .cache import SnapshotCache
from .errors import EngineSQLError, clean_engine_message, scrub
from .sources import S3_KEY_PARAMETERS, collection_name, file_source, s3_key_parameters
from .tuning import session_settings

if TYPE_CHECKING:
    from ..config import Settings

# Session settings clickhouse-connect gives its chDB handle (and its Arrow queries): the tracked path's own
# handle gets the same, so a query returns the same Arrow types on both paths.
_TRACKED_SESSION_SETTINGS = {
    "session_timezone": SESSION_TIMEZONE,
    "output_format_arrow_string_as_string": "1",
    "date_time_input_format": "best_effort",
    "cast_string_to_dynamic_use_inference": "1",
}

#: Why the snapshot cache is off on a ClickHouse server (see docs/performance.md).
SERVER_CACHE_OFF = (
    "a ClickHouse server is shared by many sessions: its own caches serve repeated reads, and copies "
    "kept per session would multiply its memory"
)

_ENGINES: dict[tuple[str, ...], ClickHouseEngine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(settings: Settings) -> ClickHouseEngine:
    """The process's engine for these settings (created on first use)."""
    key = (
        settings.engine,
        settings.s3_endpoint,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
        settings.s3_region,
        settings.clickhouse_cluster,
    )
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = ClickHouseEngine(settings)
            _ENGINES[key] = engine
        elif engine.embedded and settings.cache_mb != engine.cache_mb:
            # One cache per process: a session that sets another bound changes it for all.
            engine.cache_mb = settings.cache_mb
            engine.cache.set_limit(settings.cache_mb * 2**20)
        return engine


class QueryTracker:
    """Follows the queries one thread runs inside :meth:`ClickHouseEngine.tracking`.

    The thread running the queries reports progress through it; any other thread may :meth:`cancel`.

    Args:
        progress: Called with (read_rows, total_rows_to_read, read_bytes) while a query runs, about every
            100 ms, and once when it ends (totals over the tracked block so far; 0 when unknown).

    Attributes:
        read_rows: Rows read by the tracked queries so far.
        read_bytes: Bytes read by the tracked queries so far.
        cancelled: True once :meth:`cancel` was called.
    """

    def __init__(self, progress: ProgressCallback | None = None) -> None:
        self.progress = progress
        self.read_rows = 0
        self.read_bytes = 0
        self.cancelled = False
        self._done = (0, 0)  # rows and bytes of the finished queries of the block
        self._lock = threading.Lock()
        self._engine: ClickHouseEngine | None = None
        self._query_id: str | None = None

    def cancel(self) -> None:
        """Stop the running query, from any thread; later queries of the tracked block fail at once.

        Safe to call repeatedly (a query that had not reached the engine yet is stopped by a later call).
        """
        with self._lock:
            self.cancelled = True
            engine, query_id = self._engine, self._query_id
        if engine is not None and query_id is not None:
            engine.kill(query_id)

    def _start(self, engine: ClickHouseEngine, query_id: str) -> None:
        with self._lock:
            if self.cancelled:
                raise EngineError("Query was cancelled")
            self._engine, self._query_id = engine, query_id

    def _report(self, read_rows: int, total_rows: int, read_bytes: int) -> None:
        self.read_rows = self._done[0] + read_rows
        self.read_bytes = self._done[1] + read_bytes
        if self.progress is not None:
            self.progress(self.read_rows, self._done[0] + total_rows if total_rows else 0, self.read_bytes)

    def _finish(self) -> tuple[int, int]:
        with self._lock:
            self._query_id = None
            rows, size = self.read_rows - self._done[0], self.read_bytes - self._done[1]
            self._done = (self.read_rows, self.read_bytes)
            return rows, size


class ClickHouseEngine:
    """ClickHouse SQL through clickhouse-connect.

    Args:
        settings: The lakehouse settings (engine DSN and object-store credentials).
    """

    def __init__(self, settings: Settings) -> None:
        import clickhouse_connect

        self.dsn = settings.engine
        self.embedded = settings.is_embedded_engine
        self._settings = settings
        #: The named collection holding S3 credentials: a server has one, configured server-side. The
        #: embedded engine has none ("") and binds the keys to the queries that name them instead.
        self.s3_collection = collection_name(self.embedded)
        self._s3_keys = s3_key_parameters(settings) if self.embedded else {}
        # chDB runs queries in this process: one at a time keeps its session state consistent.
        self._lock = threading.RLock()
        # Tracked queries (see tracking()): the tracker of each thread, chDB's own handles for progress
        # and cancel, opened on first use.
        self._local = threading.local()
        self._tracked_conn: Any = None
        self._control: Any = None
        self._control_lock = threading.Lock()
        try:
            self._client = clickhouse_connect.get_client(
                dsn=settings.engine, settings={"session_timezone": SESSION_TIMEZONE, **session_settings()}
            )
        except Exception as e:  # the driver raises many kinds; all mean "cannot reach the engine"
            raise EngineError(f"cannot open the engine {masked_url(settings.engine)}: {e}") from e
        #: Engine-native copies of the snapshots queries read (see :mod:`.cache`): embedded engine only.
        self.cache_mb = settings.cache_mb
        self.cache = SnapshotCache(
            self,
            settings.cache_mb * 2**20,
            off_reason="" if self.embedded else SERVER_CACHE_OFF,
        )

    # -- running SQL -------------------------------------------------------------------------------

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: QueryStats | None = None,
    ) -> pa.Table:
        """Run a query; return Arrow with ``DateTime`` and time zones repaired.

        Inside :meth:`tracking`, the query reports progress and can be cancelled (see there).
        """
        tracker: QueryTracker | None = getattr(self._local, "tracker", None)
        parameters = self._with_keys(sql, parameters)
        if tracker is not None:
            return self._query_tracked(tracker, sql, parameters, settings, stats)
        start = time.perf_counter()
        with self._lock:
            try:
                result = self._client.query_arrow(sql, parameters=parameters, settings=dict(settings or {}))
                if needs_type_fix(result.schema):
                    result = fix_engine_arrow(result, self._describe_unlocked(sql, parameters))
            except EngineError:
                raise
            except Exception as e:
                raise self._wrap(e) from e
        if stats is not None:
            stats.elapsed_s = time.perf_counter() - start
        return result

    def command(self, sql: str, settings: Mapping[str, Any] | None = None, tracked: bool = False) -> None:
        """Run a statement (DDL, INSERT ... SELECT).

        Args:
            sql: The statement.
            settings: Engine settings of this statement.
            tracked: Inside :meth:`tracking`, report its progress and let it be cancelled like a query
                (for long statements a user waits on, such as a snapshot cache fill; ``settings`` must
                then be empty: put them in the statement's ``SETTINGS`` clause).
        """
        tracker: QueryTracker | None = getattr(self._local, "tracker", None)
        if tracked and tracker is not None and self.embedded and not settings:
            self._query_tracked(tracker, sql, self._with_keys(sql, None), None, None, fmt="CSV")
            return
        parameters = self._with_keys(sql, None) or None
        with self._lock:
            try:
                self._client.command(sql, parameters=parameters, settings=dict(settings or {}))
            except Exception as e:
                raise self._wrap(e) from e

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """Insert Arrow data into an existing table (``table`` is a quoted ``db.table``)."""
        with self._lock:
            try:
                self._client.insert_arrow(table, data)
            except Exception as e:
                raise self._wrap(e) from e

    def describe(self, sql: str, parameters: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """The (name, type) pairs of a query's result."""
        with self._lock:
            try:
                return self._describe_unlocked(sql, self._with_keys(sql, parameters))
            except Exception as e:
                raise self._wrap(e) from e

    def value(self, sql: str) -> Any:
        """The first value of a small query's result (None when empty); never tracked (:meth:`tracking`)."""
        with self._lock:
            try:
                rows = self._client.query(sql).result_rows
            except Exception as e:
                raise self._wrap(e) from e
        return rows[0][0] if rows else None

    def _with_keys(self, sql: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        """The query's parameters, plus the embedded engine's S3 keys when the SQL names them."""
        bound = dict(parameters or {})
        if self._s3_keys and any(name in sql for name in S3_KEY_PARAMETERS):
            bound.update(self._s3_keys)
        return bound

    def _describe_unlocked(self, sql: str, parameters: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        rows = self._client.query(f"DESCRIBE ({sql})", parameters=dict(parameters or {})).result_rows
        return [(str(r[0]), str(r[1])) for r in rows]

    def ping(self) -> bool:
        """True when the engine answers."""
        with self._lock:
            return bool(self._client.ping())

    def close(self) -> None:
        """Close the client (and the handles of tracked queries)."""
        with self._lock:
            self._client.close()
            for handle in (self._tracked_conn, self._control):
                if handle is not None:
                    with contextlib.suppress(Exception):
                        handle.close()
            self._tracked_conn = self._control = None

    # -- tracked queries: progress, rows and bytes read, cancel -------------------------------------------

    @contextlib.contextmanager
    def tracking(self, tracker: QueryTracker) -> Iterator[QueryTracker]:
        """Track the queries this thread runs inside the block: progress, rows and bytes read, cancel.

        On chDB a tracked query without per-query settings runs on a handle of its own that reports
        progress and fills ``stats.read_rows`` / ``stats.read_bytes``; every tracked query carries a tag
        that :meth:`QueryTracker.cancel` (any thread) uses to ``KILL`` it. Outside the block nothing changes.
        """
        previous = getattr(self._local, "tracker", None)
        self._local.tracker = tracker
        try:
            yield tracker
        finally:
            self._local.tracker = previous

    def cancelled(self) -> bool:
        """True when this thread's tracked block (see :meth:`tracking`) was cancelled."""
        tracker: QueryTracker | None = getattr(self._local, "tracker", None)
        return tracker is not None and tracker.cancelled

    def kill(self, query_id: str) -> None:
        """Cancel the tracked query ``query_id`` (from any thread; no-op once it ended)."""
        # concat() keeps the KILL statement's own text from matching the tag.
        sql = (
            f"KILL QUERY WHERE position(query, concat('/* rat:', {quote_literal(query_id)}, ' */')) > 0 ASYNC"
        )
        with self._control_lock:
            try:
                if self.embedded:
                    if self._control is None:
                        import chdb

                        self._control = chdb.connect(self._chdb_path())
                    self._control.query(sql, "CSV")
                else:
                    if self._control is None:
                        import clickhouse_connect

                        self._control = clickhouse_connect.get_client(dsn=self.dsn)
                    self._control.command(sql)
            except Exception as e:
                raise self._wrap(e) from e

    def _query_tracked(
        self,
        tracker: QueryTracker,
        sql: str,
        parameters: Mapping[str, Any] | None,
        settings: Mapping[str, Any] | None,
        stats: QueryStats | None,
        fmt: str = "Arrow",
    ) -> pa.Table:
        query_id = uuid.uuid4().hex
        # The tag goes last, so positions in engine errors still point into the caller's SQL.
        tagged = f"{sql.rstrip().rstrip(';')}\n/* rat:{query_id} */"
        start = time.perf_counter()
        tracker._start(self, query_id)
        try:
            with self._lock:
                try:
                    if self.embedded and not settings:
                        result = self._query_own_handle(tracker, tagged, parameters, fmt)
                    else:
                        result = self._client.query_arrow(
                            tagged, parameters=dict(parameters or {}), settings=dict(settings or {})
                        )
                    if needs_type_fix(result.schema):
                        result = fix_engine_arrow(result, self._describe_unlocked(sql, parameters))
                except EngineError:
                    raise
                except Exception as e:
                    if tracker.cancelled:
                        self._after_kill()
                    raise self._wrap(e) from e
        finally:
            read_rows, read_bytes = tracker._finish()
        if stats is not None:
            stats.elapsed_s = time.perf_counter() - start
            stats.read_rows, stats.read_bytes = read_rows, read_bytes
        return result

    def _query_own_handle(
        self, tracker: QueryTracker, sql: str, parameters: Mapping[str, Any] | None, fmt: str = "Arrow"
    ) -> pa.Table:
        from clickhouse_connect.driver.binding import bind_query

        # The same binding as clickhouse-connect's, so a parameter means the same on both paths.
        final, bound = bind_query(sql, dict(parameters) if parameters else None, self._client.server_tz)
        params = {k.removeprefix("param_"): v for k, v in bound.items()}
        conn = self._tracked_handle()

        def on_progress(p: Mapping[str, Any]) -> None:
            tracker._report(int(p.get("read_rows", 0)), int(p.get("total_rows_to_read", 0)),
                            int(p.get("read_bytes", 0)))  # fmt: skip

        conn.set_progress_callback(on_progress)
        try:
            text = final.decode() if isinstance(final, bytes) else final
            raw = conn.query(text, fmt, params=params)
        except Exception as e:
            message = str(e)
            at = message.find("Code: ")
            raise RuntimeError(message[at:] if at > 0 else message) from e
        finally:
            conn.set_progress_callback(None)
        if fmt != "Arrow":
            return pa.table({})  # a statement: no result
        return pa.ipc.open_file(raw.bytes()).read_all()

    def _tracked_handle(self) -> Any:
        if self._tracked_conn is None:
            import chdb

            conn = chdb.connect(self._chdb_path())
            for key, value in {**_TRACKED_SESSION_SETTINGS, **session_settings()}.items():
                conn.query(f"SET {key} = {quote_literal(value)}", "CSV")
            self._tracked_conn = conn
        return self._tracked_conn

    def _chdb_path(self) -> str:
        path = str(getattr(self._client, "path", "") or ":memory:")
        # chDB compares engine paths literally: spell it as clickhouse-connect did.
        return path if path.startswith((":memory:", "file:")) else os.path.realpath(path)

    def _after_kill(self) -> None:
        # chDB leaves a killed query's unread output on its handle: the next query there would get it.
        # The tracked handle is reopened; clickhouse-connect's is drained by one throwaway query.
        if self._tracked_conn is not None:
            with contextlib.suppress(Exception):
                self._tracked_conn.close()
            self._tracked_conn = None
        if self.embedded:
            with contextlib.suppress(Exception):
                self._client.command("SELECT 1")

    # -- reading Iceberg data files ------------------------------------------------------------------

    def file_source(self, paths: list[str], structure: str) -> str:
        """A table function reading exactly ``paths`` (see :func:`.sources.file_source`)."""
        return file_source(paths, structure, self._settings, self.s3_collection, self.embedded)

    def _wrap(self, e: Exception) -> EngineError:
        message, position, line = clean_engine_message(scrub(str(e), self._settings))
        return EngineSQLError(message or type(e).__name__, position=position, line=line)
