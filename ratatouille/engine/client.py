"""The engine over clickhouse-connect: chDB in this process (``chdb://``) or a ClickHouse server (``http(s)://``).

One engine per process and configuration (:func:`engine_for`): chDB allows a single embedded server per
process, and the lakehouse state lives in Iceberg alone, so nothing kept here is needed by other processes.
Data files are read with ``file()`` (local warehouse) or ``s3()`` through a named collection (S3), so no
credential ever appears in SQL text.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pyarrow as pa

from ..arrowtypes import fix_engine_arrow, needs_type_fix
from ..errors import EngineError, InvalidInput
from ..sqltext import quote_identifier, quote_literal
from .base import QueryStats

if TYPE_CHECKING:
    from ..config import Settings

S3_COLLECTION = "rat_s3"
_GLOB_CHARS = re.compile(r"[{}*?,\[\]]")
_ERROR_CODE_RE = re.compile(r"^Code:\s*\d+\.\s*(?:DB::Exception:\s*)?")
_ERROR_TRAILER_RE = re.compile(r"\s*\((?:[A-Z_]+)\)(?:\s*\(version [^)]*\))?\s*$")
_LINE_RE = re.compile(r"\(line (\d+), col (\d+)\)")
_POSITION_RE = re.compile(r"failed at position (\d+)")
_SYNTAX_RE = re.compile(r"Syntax error: failed at position \d+ \(([^)]*)\)")

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
        return engine


class EngineSQLError(EngineError):
    """An error the engine reported for a query, with its position in the SQL that ran."""

    def __init__(self, message: str, *, position: int | None, line: int | None) -> None:
        super().__init__(message, line=line)
        self.position = position


def clean_engine_message(raw: str) -> tuple[str, int | None, int | None]:
    """Shorten a ClickHouse error to its reason, and pull out the failing position and line."""
    text = raw.strip()
    text = _ERROR_CODE_RE.sub("", text)
    first = text.split("\n", 1)[0]
    syntax = _SYNTAX_RE.search(text)
    if syntax:
        token = syntax.group(1)
        # The client appends "FORMAT Arrow": failing there means the query ended too early.
        where = "the query ends too early" if token == "FORMAT" else f"unexpected {token!r}"
        expected = text.split("Expected one of:", 1)[1] if "Expected one of:" in text else ""
        options = [o.strip() for o in expected.split(",") if o.strip()][:6]
        hint = f" (expected one of: {', '.join(options).rstrip('.')}...)" if options else ""
        first = f"Syntax error: {where}{hint}"
    first = _ERROR_TRAILER_RE.sub("", first)
    # "In scope <query>" repeats the expanded SQL (long file lists): the reason alone is clearer.
    first = first.split(". In scope ", 1)[0]
    line_m = _LINE_RE.search(text)
    pos_m = _POSITION_RE.search(text)
    return (
        first.strip().rstrip(":").strip(),
        int(pos_m.group(1)) if pos_m else None,
        int(line_m.group(1)) if line_m else None,
    )


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
        # chDB runs queries in this process: one at a time keeps its session state consistent.
        self._lock = threading.RLock()
        try:
            self._client = clickhouse_connect.get_client(dsn=settings.engine)
        except Exception as e:  # the driver raises many kinds; all mean "cannot reach the engine"
            raise EngineError(f"cannot open the engine {_safe_dsn(settings.engine)}: {e}") from e
        if settings.s3_endpoint or settings.uses_s3:
            self._ensure_s3_collection()

    # -- running SQL -------------------------------------------------------------------------------

    def query_arrow(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        stats: QueryStats | None = None,
    ) -> pa.Table:
        """Run a query; return Arrow with ``DateTime`` and time zones repaired."""
        start = time.perf_counter()
        with self._lock:
            try:
                result = self._client.query_arrow(
                    sql, parameters=dict(parameters or {}), settings=dict(settings or {})
                )
                if needs_type_fix(result.schema):
                    result = fix_engine_arrow(result, self._describe_unlocked(sql, parameters))
            except EngineError:
                raise
            except Exception as e:
                raise self._wrap(e) from e
        if stats is not None:
            stats.elapsed_s = time.perf_counter() - start
        return result

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> None:
        """Run a statement (DDL, INSERT ... SELECT)."""
        with self._lock:
            try:
                self._client.command(sql, settings=dict(settings or {}))
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
                return self._describe_unlocked(sql, parameters)
            except Exception as e:
                raise self._wrap(e) from e

    def _describe_unlocked(self, sql: str, parameters: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        rows = self._client.query(f"DESCRIBE ({sql})", parameters=dict(parameters or {})).result_rows
        return [(str(r[0]), str(r[1])) for r in rows]

    def ping(self) -> bool:
        """True when the engine answers."""
        with self._lock:
            return bool(self._client.ping())

    def close(self) -> None:
        """Close the client."""
        with self._lock:
            self._client.close()

    # -- reading Iceberg data files ------------------------------------------------------------------

    def file_source(self, paths: list[str], structure: str) -> str:
        """A table function reading exactly ``paths`` (Parquet) with the given ClickHouse structure.

        Local files use ``file()``; ``s3://`` files use ``s3()`` (``s3Cluster()`` when a cluster is set)
        through the named collection holding the credentials.
        """
        if not paths:
            raise InvalidInput("file_source needs at least one file")
        schemes = {urlparse(p).scheme for p in paths}
        if schemes <= {"", "file"}:
            local = [urlparse(p).path if p.startswith("file:") else p for p in paths]
            return self._glob_call(local, lambda url: f"file({quote_literal(url)}, 'Parquet', {structure})")
        if schemes <= {"s3", "s3a"}:
            urls = [self._s3_url(p) for p in paths]
            cluster = self._settings.clickhouse_cluster

            def call(url: str) -> str:
                args = f"{S3_COLLECTION}, url={quote_literal(url)}, format='Parquet', structure={structure}"
                if cluster and not self.embedded:
                    return f"s3Cluster({quote_literal(cluster)}, {args})"
                return f"s3({args})"

            return self._glob_call(urls, call)
        raise InvalidInput(f"cannot read data files with scheme(s) {sorted(schemes)}")

    @staticmethod
    def _glob_call(paths: list[str], call: Any) -> str:
        # One call with a brace list reads all files in parallel; the brace list must follow a fixed
        # prefix (ClickHouse roots its glob at the first wildcard), hence the common folder first.
        if len(paths) == 1 and not _GLOB_CHARS.search(paths[0]):
            return str(call(paths[0]))
        # Split off "scheme://host" so that the common folder is computed on paths alone.
        bases = {p[: p.index("/", p.index("://") + 3)] if "://" in p else "" for p in paths}
        if len(bases) == 1:
            base = bases.pop()
            rest = [p[len(base) :] for p in paths]
            folder = os.path.commonpath(rest) if len(rest) > 1 else os.path.dirname(rest[0])
            prefix = base + folder.rstrip("/") + "/"
            rels = [p[len(prefix) :] for p in paths]
            if not any(_GLOB_CHARS.search(r) for r in rels) and not _GLOB_CHARS.search(prefix):
                return str(call(prefix + "{" + ",".join(rels) + "}"))
        selects = [f"SELECT * FROM {call(p)}" for p in paths]
        return "(" + " UNION ALL ".join(selects) + ")"

    def _s3_url(self, uri: str) -> str:
        parsed = urlparse(uri)
        endpoint = self._settings.s3_endpoint.rstrip("/")
        if endpoint:
            return f"{endpoint}/{parsed.netloc}{parsed.path}"
        region = self._settings.s3_region or "us-east-1"
        return f"https://{parsed.netloc}.s3.{region}.amazonaws.com{parsed.path}"

    def _ensure_s3_collection(self) -> None:
        s = self._settings
        if not self.embedded:
            # On a server the collection is part of the server's configuration (docker/ sets it up);
            # credentials never travel in queries.
            return
        parts = [f"url = {quote_literal((s.s3_endpoint or 'https://s3.amazonaws.com').rstrip('/') + '/')}"]
        if s.s3_access_key_id:
            parts.append(f"access_key_id = {quote_literal(s.s3_access_key_id)}")
        if s.s3_secret_access_key:
            parts.append(f"secret_access_key = {quote_literal(s.s3_secret_access_key)}")
        with self._lock:
            try:
                self._client.command(f"DROP NAMED COLLECTION IF EXISTS {quote_identifier(S3_COLLECTION)}")
                self._client.command(f"CREATE NAMED COLLECTION {S3_COLLECTION} AS {', '.join(parts)}")
            except Exception as e:
                raise EngineError(f"cannot configure S3 access in the engine: {_scrub(str(e), s)}") from e

    def _wrap(self, e: Exception) -> EngineError:
        message, position, line = clean_engine_message(_scrub(str(e), self._settings))
        return EngineSQLError(message or type(e).__name__, position=position, line=line)


def _scrub(text: str, settings: Settings) -> str:
    """Remove credentials from a message."""
    for secret in (settings.s3_secret_access_key, settings.s3_access_key_id):
        if secret:
            text = text.replace(secret, "****")
    return text


def _safe_dsn(dsn: str) -> str:
    parsed = urlparse(dsn)
    if parsed.password:
        return dsn.replace(f":{parsed.password}@", ":****@")
    return dsn
