"""Engine-side tables holding Arrow data: merge batches and the session's temp tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa

from .arrowtypes import arrow_to_clickhouse, nullable
from .sqltext import quote_identifier

if TYPE_CHECKING:
    from .engine import Engine

STAGE_DATABASE = "_rat_stage"
TEMP_DATABASE = "rat_temp"


def qualified(database: str, name: str) -> str:
    """A quoted ``database.table``."""
    return f"{quote_identifier(database)}.{quote_identifier(name)}"


def create_from_arrow(engine: Engine, database: str, name: str, data: pa.Table, replace: bool = False) -> str:
    """Create a Memory table in the engine shaped like ``data`` and load it; return its quoted name."""
    engine.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}")
    target = qualified(database, name)
    if replace:
        engine.command(f"DROP TABLE IF EXISTS {target}")
    columns = ", ".join(
        f"{quote_identifier(f.name)} {nullable(arrow_to_clickhouse(f.type))}" for f in data.schema
    )
    engine.command(f"CREATE TABLE {target} ({columns}) ENGINE = Memory")
    if data.num_rows:
        engine.insert_arrow(target, _insertable(data))
    return target


def _insertable(data: pa.Table) -> pa.Table:
    # The engine takes plain strings and decoded dictionaries; every column is Nullable there.
    fields = []
    for f in data.schema:
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        if pa.types.is_null(t):
            t = pa.string()
        fields.append(pa.field(f.name, t, nullable=True))
    schema = pa.schema(fields)
    return data if schema == data.schema else data.cast(schema)


@contextmanager
def staged(engine: Engine, data: pa.Table) -> Iterator[str]:
    """Stage ``data`` in a uniquely named engine table for the duration of the block."""
    name = f"b_{uuid.uuid4().hex}"
    target = create_from_arrow(engine, STAGE_DATABASE, name, data)
    try:
        yield target
    finally:
        engine.command(f"DROP TABLE IF EXISTS {target}")
