"""The serving layer: lakehouse tables as ClickHouse tables that BI tools query on port 8123.

``publish`` modes: ``live`` (an ``IcebergS3``-engine table, zero copy, reading the newest metadata file at
each query: it follows main by itself, but with concurrent writers that file can be a commit the catalog
rejected, until the next good commit), ``pinned`` (zero copy, fixed to the metadata file the catalog holds
at publish time), ``snapshot`` (a MergeTree copy of exactly the snapshot's data files, swapped atomically
on republish), ``refresh`` (a refreshable materialized view, built aside and swapped in once filled).
``materialize`` stores the result of SQL.
On a cluster, reads go through ``icebergS3Cluster`` / ``s3Cluster``. Every object made here carries a
``ratatouille mode=... source=ns.t@snapshot`` comment, which ``tables``, ``describe`` and ``drop`` use
(they leave other tables alone). Credentials never appear in SQL: the server reads S3 through its
``rat_s3`` named collection.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pandas as pd

from .errors import AlreadyExists, ConfigError, EngineError, InvalidInput, NotFound
from .reading import MAIN, resolve
from .serving_sql import (
    MARKER,
    MODES,
    Target,
    comment_text,
    order_by_clause,
    parse_comment,
    publish_statements,
    staging_target,
)
from .sqltext import TableRef, quote_identifier, quote_literal, validate_identifier

if TYPE_CHECKING:
    from .config import Settings
    from .engine import ClickHouseEngine
    from .session import Lakehouse

START_COMMAND = "make up (or: docker compose -f docker/compose.yaml up -d)"


def no_server_message(call: str, settings: Settings) -> str:
    """What to say when a serving call runs on the embedded engine."""
    return (
        f"rat.{call} needs a ClickHouse server that BI tools can reach on port 8123, but this session runs "
        f"the embedded engine ({settings.engine}) inside this Python process, where no BI tool can query it. "
        f"Start the full stack with `{START_COMMAND}` and run the notebook there, or point RAT_ENGINE at a "
        "server (http://user:password@host:8123)."
    )


# -- the calls ------------------------------------------------------------------------------------------


def publish(
    session: Lakehouse,
    table: str,
    mode: str = "live",
    *,
    name: str | None = None,
    order_by: str = "tuple()",
    every: str = "1 HOUR",
    require_server: bool = True,
) -> dict[str, Any]:
    """Make a lakehouse table a table of the ClickHouse server (see the module docstring for the modes).

    Main is published, whatever dev branch the session is on; ``mode="snapshot"`` also takes
    ``table@tag`` or ``table@<snapshot id>``.

    Args:
        session: The lakehouse session.
        table: ``namespace.table``.
        mode: ``live``, ``pinned``, ``snapshot`` or ``refresh``.
        name: The ClickHouse ``database.table``; the lakehouse name by default.
        order_by: Sorting key of the MergeTree copy (``snapshot`` and ``refresh``).
        every: Refresh interval of ``refresh`` (``"10 MINUTE"``, ``"1 HOUR"``...).
        require_server: False lets it run on the embedded engine (which no BI tool can reach).

    Returns:
        ``table`` (ClickHouse name), ``source``, ``mode``, ``snapshot_id``, ``engine``.

    Raises:
        ConfigError: The session uses the embedded engine, or a local warehouse with a server.
        AlreadyExists: A table of that name exists on the server and was not made by ratatouille.
    """
    _require_server(session, "publish", require_server)
    if mode not in MODES:
        raise InvalidInput(f"unknown publish mode {mode!r}: use one of {', '.join(MODES)}")
    ref = TableRef.parse(table)
    if ref.is_pinned and mode != "snapshot":
        raise InvalidInput(
            f"mode={mode!r} serves the table's main branch; publish {ref} with mode='snapshot'"
        )
    target = Target.parse(name or ref.identifier)
    resolved = resolve(session.catalog, ref, MAIN)
    engine = session.engine
    _check_location(engine, str(resolved.table.location()))
    # refresh cannot replace a view in one statement: it builds the new one aside, then swaps it in.
    built = staging_target(target) if mode == "refresh" else target
    statements = publish_statements(
        built, resolved, mode, settings=session.settings, engine=engine, cluster=_cluster(session),
        order_by=order_by, every=every,
    )  # fmt: skip
    _prepare(engine, target)
    if built == target:
        for statement in statements:
            engine.command(statement)
    else:
        _build_and_swap(engine, built, target, statements)
    kind = _existing(engine, target)
    return {"table": str(target), "source": str(ref), "mode": mode, "snapshot_id": resolved.snapshot_id,
            "engine": kind[0] if kind else ""}  # fmt: skip


def materialize(
    session: Lakehouse,
    table_name: str,
    source: str,
    order_by: str = "tuple()",
    *,
    require_server: bool = True,
) -> dict[str, Any]:
    """Store the result of SQL (or a whole lakehouse table) as a MergeTree table on the server.

    References resolve as in ``rat.query`` (the session's branch); each source snapshot is recorded.
    Publishing again replaces the table atomically.

    Args:
        session: The lakehouse session.
        table_name: The ClickHouse ``database.table`` (``table`` alone: the ``default`` database).
        source: SQL with ``{ns.t}`` references, or a table name (``ns.t``).
        order_by: The MergeTree sorting key.
        require_server: False lets it run on the embedded engine (which no BI tool can reach).

    Returns:
        ``table``, ``mode`` (``materialize``), ``sources`` (``ns.t@snapshot``), ``rows``, ``branch``.
    """
    _require_server(session, "materialize", require_server)
    target = Target.parse(table_name)
    sql = _source_sql(source)
    expanded = session.expand(sql)
    engine = session.engine
    for resolved in expanded.tables:
        _check_location(engine, str(resolved.table.location()))
    sources = [(r.ref.identifier, r.snapshot_id) for r in expanded.tables]
    comment = quote_literal(comment_text("materialize", sources))
    _prepare(engine, target)
    engine.command(
        f"CREATE OR REPLACE TABLE {target.sql} ENGINE = MergeTree ORDER BY {order_by_clause(order_by)} "
        f"SETTINGS allow_nullable_key = 1 COMMENT {comment} AS {expanded.sql}"
    )
    return {"table": str(target), "mode": "materialize", "sources": [f"{n}@{s}" for n, s in sources],
            "rows": _count(engine, target), "branch": session.branch}  # fmt: skip


def tables(session: Lakehouse, database: str | None = None) -> pd.DataFrame:
    """The server's tables made by ratatouille: ``table, mode, source, published_at, engine, rows``."""
    where = "" if database is None else f" AND database = {quote_literal(validate_identifier(database))}"
    data = session.engine.query_arrow(
        "SELECT database, name, engine, create_table_query, total_rows FROM system.tables "
        f"WHERE NOT is_temporary AND position(create_table_query, {quote_literal(MARKER + ' mode=')}) > 0"
        f"{where} ORDER BY database, name"
    ).to_pylist()
    rows = []
    for row in data:
        marker = parse_comment(str(row["create_table_query"]))
        if marker is None:
            continue
        sources = ",".join(f"{n}@{s}" for n, s in marker["sources"])
        rows.append({"table": f"{row['database']}.{row['name']}", "mode": marker["mode"], "source": sources,
                     "published_at": marker["published_at"], "engine": row["engine"],
                     "rows": row["total_rows"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["table", "mode", "source", "published_at", "engine", "rows"])


def describe(session: Lakehouse, table: str) -> dict[str, Any]:
    """One served table: mode, sources, columns, rows, and whether main moved since it was published.

    ``stale`` is True when a ``pinned``, ``snapshot`` or ``materialize`` table no longer shows the head of
    main of its sources (publish again to catch up), False when it does or follows main by itself
    (``live``), None when it cannot be told (``refresh``: see ``refresh``).
    """
    target = Target.parse(table)
    engine = session.engine
    found = _existing(engine, target)
    if found is None:
        raise NotFound(f"ClickHouse has no table {target}")
    kind, create_sql = found
    marker = parse_comment(create_sql) or {"mode": "", "sources": [], "published_at": ""}
    columns = engine.query_arrow(
        "SELECT name, type FROM system.columns WHERE database = "
        f"{quote_literal(target.database)} AND table = {quote_literal(target.name)} ORDER BY position"
    ).to_pylist()
    heads = {name: _main_head(session, name) for name, _ in marker["sources"]}
    out: dict[str, Any] = {
        "table": str(target),
        "engine": kind,
        "mode": marker["mode"],
        "sources": [f"{n}@{s}" for n, s in marker["sources"]],
        "published_at": marker["published_at"],
        "columns": [{"name": c["name"], "type": c["type"]} for c in columns],
        "rows": _count(engine, target),
        "main_heads": {n: h for n, h in heads.items()},
        "stale": _stale(marker, heads),
        "create_sql": create_sql,
    }
    if marker["mode"] == "refresh":
        refresh = engine.query_arrow(
            "SELECT status, last_success_time, next_refresh_time, exception FROM system.view_refreshes "
            f"WHERE database = {quote_literal(target.database)} AND view = {quote_literal(target.name)}"
        ).to_pylist()
        out["refresh"] = refresh[0] if refresh else {}
    return out


def drop(session: Lakehouse, table: str, force: bool = False) -> str:
    """Drop a served table from the server (the lakehouse table is untouched); return its name.

    Raises:
        NotFound: No such table on the server.
        InvalidInput: The table was not made by ratatouille and ``force`` is False.
    """
    target = Target.parse(table)
    engine = session.engine
    found = _existing(engine, target)
    if found is None:
        raise NotFound(f"ClickHouse has no table {target}")
    if parse_comment(found[1]) is None and not force:
        raise InvalidInput(f"{target} was not made by ratatouille: pass force=True to drop it anyway")
    engine.command(f"DROP TABLE IF EXISTS {target.sql} SYNC")
    return str(target)


def clickhouse_client(settings: Settings) -> Any:
    """A new clickhouse-connect client on the session's engine (the server, or the embedded chDB)."""
    import clickhouse_connect

    try:
        return clickhouse_connect.get_client(dsn=settings.engine)
    except Exception as e:  # the driver raises many kinds; all mean "cannot reach the engine"
        raise EngineError(f"cannot connect to the engine (RAT_ENGINE): {e}") from e


# -- helpers ------------------------------------------------------------------------------------------------


def _require_server(session: Lakehouse, call: str, require_server: bool) -> None:
    if require_server and session.settings.is_embedded_engine:
        raise ConfigError(no_server_message(call, session.settings))


def _cluster(session: Lakehouse) -> str:
    # As for reads (engine.file_source): the cluster applies on a server only.
    return "" if session.settings.is_embedded_engine else session.settings.clickhouse_cluster


def _check_location(engine: ClickHouseEngine, location: str) -> None:
    if not engine.embedded and urlparse(location).scheme not in ("s3", "s3a"):
        raise ConfigError(
            f"the table's files are in {location}, a folder the ClickHouse server cannot read: keep the "
            "warehouse in S3 (RAT_WAREHOUSE=s3://bucket/prefix) to serve tables from a server"
        )


def _source_sql(source: str) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("materialize needs SQL text or a table name as its source")
    try:
        return f"SELECT * FROM {{{TableRef.parse(source.strip())}}}"
    except InvalidInput:
        return source


def _prepare(engine: ClickHouseEngine, target: Target) -> None:
    """Create the database; refuse to replace a table ratatouille did not make."""
    found = _existing(engine, target)
    if found is not None and parse_comment(found[1]) is None:
        raise AlreadyExists(
            f"{target} already exists on the server and was not made by ratatouille: "
            "publish under another name (name='db.table') or drop it first"
        )
    engine.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(target.database)}")


def _build_and_swap(engine: ClickHouseEngine, built: Target, target: Target, statements: list[str]) -> None:
    """Run ``statements`` (which create and fill ``built``), then put ``built`` in the place of ``target``.

    Readers see the old table until the swap, then the new one, never no table: ``EXCHANGE TABLES`` is
    atomic (Atomic databases, ClickHouse's default). A failed create or fill drops ``built`` and leaves
    ``target`` as it was; once swapped, the old table (now at ``built``) is dropped.
    """
    try:
        for statement in statements:
            engine.command(statement)
        if _existing(engine, target) is None:
            engine.command(f"RENAME TABLE {built.sql} TO {target.sql}")
            return
        engine.command(f"EXCHANGE TABLES {built.sql} AND {target.sql}")
    except BaseException:
        with contextlib.suppress(EngineError):  # the error that stopped the publish is the one to tell
            engine.command(f"DROP TABLE IF EXISTS {built.sql} SYNC")
        raise
    engine.command(f"DROP TABLE IF EXISTS {built.sql} SYNC")


def _existing(engine: ClickHouseEngine, target: Target) -> tuple[str, str] | None:
    rows = engine.query_arrow(
        "SELECT engine, create_table_query FROM system.tables WHERE database = "
        f"{quote_literal(target.database)} AND name = {quote_literal(target.name)}"
    ).to_pylist()
    return (str(rows[0]["engine"]), str(rows[0]["create_table_query"])) if rows else None


def _count(engine: ClickHouseEngine, target: Target) -> int:
    return int(engine.query_arrow(f"SELECT count() AS n FROM {target.sql}").column("n")[0].as_py())


def _main_head(session: Lakehouse, name: str) -> int | None:
    from .catalog import load_table
    from .reading import head_snapshot_id

    try:
        return head_snapshot_id(load_table(session.catalog, name), MAIN)
    except NotFound:
        return None


def _stale(marker: dict[str, Any], heads: dict[str, int | None]) -> bool | None:
    mode = marker["mode"]
    if mode == "live":
        return False
    if mode not in ("pinned", "snapshot", "materialize"):
        return None
    return any(heads.get(name) != sid for name, sid in marker["sources"])
