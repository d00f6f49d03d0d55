"""The SQL the serving layer sends to a ClickHouse server: target names, marker comments, statements.

Nothing here executes anything: :mod:`ratatouille.serving` runs these statements, and the tests run them
through chDB (the same engine) against moto's S3.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .engine.sources import s3_http_url
from .errors import ConfigError, InvalidInput
from .reading import ResolvedTable, source_sql
from .sqltext import quote_identifier, quote_literal, validate_identifier
from .staging import STAGE_DATABASE, TEMP_DATABASE

if TYPE_CHECKING:
    from .config import Settings
    from .engine import ClickHouseEngine

MODES = ("live", "pinned", "snapshot", "refresh")
MARKER = "ratatouille"
DEFAULT_DATABASE = "default"
#: Marks the tables a publish builds before swapping them in (see :func:`staging_target`).
STAGING_SUFFIX = "__rat_staging_"
_RESERVED = {"system", "information_schema", "INFORMATION_SCHEMA", STAGE_DATABASE, TEMP_DATABASE}
_INTERVAL_RE = re.compile(r"^\s*(\d+)\s+(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?\s*$", re.IGNORECASE)
_COMMENT_RE = re.compile(r"COMMENT '(" + MARKER + r" [^'\\]*)'")
# Views read through table functions, which BI users may not call: they run as their creator.
_DEFINER = "DEFINER = CURRENT_USER SQL SECURITY DEFINER"


@dataclass(frozen=True)
class Target:
    """A table on the ClickHouse server.

    Attributes:
        database: The database (one per lakehouse namespace by default).
        name: The table name.
    """

    database: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Target:
        """``db.table``, or ``table`` in the ``default`` database."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("name the ClickHouse table as 'database.table' or 'table'")
        parts = text.strip().split(".")
        if len(parts) > 2:
            raise InvalidInput(f"invalid ClickHouse table name {text!r}: write 'database.table'")
        database, name = parts if len(parts) == 2 else (DEFAULT_DATABASE, parts[0])
        validate_identifier(database, "database name")
        validate_identifier(name, "table name")
        if database in _RESERVED:
            raise InvalidInput(f"database {database!r} is reserved: publish into another one")
        return cls(database, name)

    @property
    def sql(self) -> str:
        """The quoted ``database.table``."""
        return f"{quote_identifier(self.database)}.{quote_identifier(self.name)}"

    def __str__(self) -> str:
        return f"{self.database}.{self.name}"


def staging_target(target: Target) -> Target:
    """A free name next to ``target`` to build its replacement under (same database: swapped in place)."""
    return Target(target.database, f"{target.name}{STAGING_SUFFIX}{uuid.uuid4().hex[:12]}")


def comment_text(mode: str, sources: list[tuple[str, int | None]]) -> str:
    """The marker comment: mode, source tables with their snapshot ids, and the time."""
    listed = ",".join(f"{name}@{'-' if sid is None else sid}" for name, sid in sources) or "-"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{MARKER} mode={mode} source={listed} at={stamp}"


def parse_comment(create_sql: str) -> dict[str, Any] | None:
    """The marker of a ``CREATE`` statement as a dict, or None for a table not made here."""
    found = _COMMENT_RE.search(create_sql or "")
    if not found:
        return None
    fields = dict(p.split("=", 1) for p in found.group(1).split()[1:] if "=" in p)
    sources: list[tuple[str, int | None]] = []
    for item in filter(None, fields.get("source", "-").split(",")):
        if item != "-":
            name, _, sid = item.partition("@")
            sources.append((name, int(sid) if sid.lstrip("-").isdigit() else None))
    return {"mode": fields.get("mode", ""), "sources": sources, "published_at": fields.get("at", "")}


# -- rendering ------------------------------------------------------------------------------------------


def iceberg_call(
    location: str, settings: Settings, collection: str, cluster: str = "", table: bool = False
) -> str:
    """The table function (or, with ``table``, the table engine) over an Iceberg table at ``location``.

    Raises:
        ConfigError: The table is in S3 and the engine has no named collection (chDB): the object made
            would have to keep the S3 keys in its definition.
    """
    if urlparse(location).scheme in ("s3", "s3a"):
        if not collection:
            raise ConfigError(
                "the embedded engine cannot keep a table that reads S3 by itself without writing the S3 "
                "secret into its files: publish with mode='snapshot' (a copy), or serve from a ClickHouse "
                "server, which reads S3 through its rat_s3 named collection"
            )
        url = s3_http_url(location, settings).rstrip("/") + "/"
        args = f"{collection}, url={quote_literal(url)}"
        if table:
            return f"IcebergS3({args})"
        return f"icebergS3Cluster({quote_literal(cluster)}, {args})" if cluster else f"icebergS3({args})"
    path = urlparse(location).path if location.startswith("file:") else location
    return f"{'IcebergLocal' if table else 'icebergLocal'}({quote_literal(path)})"


def publish_statements(
    target: Target,
    resolved: ResolvedTable,
    mode: str,
    *,
    settings: Settings,
    engine: ClickHouseEngine,
    cluster: str = "",
    order_by: str = "tuple()",
    every: str = "1 HOUR",
) -> list[str]:
    """The statements ``publish`` sends to the server (after ``CREATE DATABASE``), in order.

    Every mode but ``refresh`` replaces ``target`` atomically (``CREATE OR REPLACE``). ``refresh`` creates
    and fills a new view at ``target``, which must be a free name: :func:`staging_target`.
    """
    table = resolved.table
    location = str(table.location())
    collection = engine.s3_collection
    comment = quote_literal(comment_text(mode, [(resolved.ref.identifier, resolved.snapshot_id)]))
    if mode == "live":
        if cluster:
            source = iceberg_call(location, settings, collection, cluster)
            return [
                f"CREATE OR REPLACE VIEW {target.sql} {_DEFINER} AS SELECT * FROM {source} COMMENT {comment}"
            ]
        engine_sql = iceberg_call(location, settings, collection, table=True)
        return [f"CREATE OR REPLACE TABLE {target.sql} ENGINE = {engine_sql} COMMENT {comment}"]
    if mode == "pinned":
        if resolved.snapshot_id is None:
            raise InvalidInput(f"table {resolved.ref.identifier} has no snapshot to pin yet: write to it")
        if cluster:
            source = iceberg_call(location, settings, collection, cluster)
            return [
                f"CREATE OR REPLACE VIEW {target.sql} {_DEFINER} AS SELECT * FROM {source} "
                f"SETTINGS iceberg_snapshot_id = {resolved.snapshot_id} COMMENT {comment}"
            ]
        metadata = str(table.metadata_location)
        if not metadata.startswith(location.rstrip("/") + "/"):
            raise InvalidInput(f"the metadata of {resolved.ref.identifier} is outside its location")
        relative = quote_literal(metadata[len(location.rstrip("/")) + 1 :])
        engine_sql = iceberg_call(location, settings, collection, table=True)
        return [
            f"CREATE OR REPLACE TABLE {target.sql} ENGINE = {engine_sql} "
            f"SETTINGS iceberg_metadata_file_path = {relative} COMMENT {comment}"
        ]
    merge_tree = f"ENGINE = MergeTree ORDER BY {order_by_clause(order_by)} SETTINGS allow_nullable_key = 1"
    if mode == "snapshot":
        return [
            f"CREATE OR REPLACE TABLE {target.sql} {merge_tree} COMMENT {comment} "
            f"AS SELECT * FROM {source_sql(engine, resolved)}"
        ]
    if mode == "refresh":
        source = iceberg_call(location, settings, collection, cluster)
        # Built under a name of its own: serving.publish swaps it in once filled (see there).
        return [
            f"CREATE MATERIALIZED VIEW {target.sql} REFRESH EVERY {_interval(every)} {merge_tree} "
            f"AS SELECT * FROM {source} COMMENT {comment}",
            f"SYSTEM WAIT VIEW {target.sql}",
        ]
    raise InvalidInput(f"unknown publish mode {mode!r}: use one of {', '.join(MODES)}")


def order_by_clause(order_by: str) -> str:
    """A validated MergeTree sorting key (a column list or ``tuple()``)."""
    text = (order_by or "").strip()
    if not text or ";" in text:
        raise InvalidInput(f"invalid order_by {order_by!r}: give a column list or 'tuple()'")
    return text


def _interval(every: str) -> str:
    found = _INTERVAL_RE.match(every or "")
    if not found:
        raise InvalidInput(f"invalid refresh interval {every!r}: write e.g. '10 MINUTE', '1 HOUR' or '1 DAY'")
    return f"{int(found.group(1))} {found.group(2).upper()}"
