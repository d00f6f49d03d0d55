"""Readers and writers the conformance suite compares ratatouille with.

* pyiceberg's own scan (``table.scan().to_arrow()``): the reference reader;
* iceberg-rust's scan through pyiceberg-core's DataFusion table provider: the independent reader;
* chDB's Iceberg writer (``IcebergLocal``): tables with position delete files and format v3 tables;
* equality delete files, written here by hand (no writer installed here makes them) and committed with
  pyiceberg's snapshot producer.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from ratatouille import Rat

# -- comparing results -------------------------------------------------------------------------------


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, dict):
        return tuple((k, _norm(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_norm(v) for v in value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def rows(table: pa.Table) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names (in order) and the rows, normalized and sorted."""
    out = [tuple(_norm(row[name]) for name in table.column_names) for row in table.to_pylist()]
    return list(table.column_names), sorted(out, key=lambda r: tuple((v is None, repr(v)) for v in r))


def assert_same(got: pa.Table, expected: pa.Table, who: str = "ratatouille") -> None:
    """Same column names in the same order, and the same rows (in any order)."""
    got_names, got_rows = rows(got)
    want_names, want_rows = rows(expected)
    assert got_names == want_names, f"{who} returned columns {got_names}, the table has {want_names}"
    assert got_rows == want_rows, f"{who} returned other rows:\n{got_rows}\nexpected:\n{want_rows}"


# -- the readers -------------------------------------------------------------------------------------


def rat_read(rat: Rat, ref: str, where: str = "") -> pa.Table:
    """``SELECT *`` of a reference (``ns.t``, ``ns.t@branch``, ``ns.t@<snapshot id>``) through rat."""
    from ratatouille.engine.cache import CacheWarning

    sql = f"SELECT * FROM {{{ref}}}" + (f" WHERE {where}" if where else "")
    with warnings.catch_warnings():
        # A snapshot the cache cannot hold is read from its files: that read is the one measured.
        warnings.simplefilter("ignore", CacheWarning)
        result: pa.Table = rat.arrow(sql)
    return result


def pyiceberg_read(table: Table, snapshot_id: int | None = None, row_filter: str | None = None) -> pa.Table:
    """pyiceberg's scan of a snapshot (the current one by default)."""
    kwargs: dict[str, Any] = {}
    if snapshot_id is not None:
        kwargs["snapshot_id"] = snapshot_id
    if row_filter is not None:
        kwargs["row_filter"] = row_filter
    result: pa.Table = table.scan(**kwargs).to_arrow()
    return result


def _datafusion() -> Any:
    try:
        import datafusion
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("the datafusion package (test extra) is not installed: pip install -e '.[test]'")
    return datafusion


def rust_read(table: Table, snapshot_id: int | None = None, scratch: Path | None = None) -> pa.Table:
    """iceberg-rust's scan of a snapshot, through pyiceberg-core's DataFusion table provider.

    The provider reads the current snapshot of a metadata file. Another snapshot (a branch head) is read
    from a copy of the metadata file whose current snapshot (and main) is that one.
    """
    datafusion = _datafusion()
    from pyiceberg_core.datafusion import IcebergDataFusionTable

    location = table.metadata_location
    if snapshot_id is not None and snapshot_id != table.metadata.current_snapshot_id:
        assert scratch is not None, "reading another snapshot needs a scratch folder"
        meta = json.loads(Path(_local(location)).read_text())
        meta["current-snapshot-id"] = snapshot_id
        meta.setdefault("refs", {})["main"] = {"snapshot-id": snapshot_id, "type": "branch"}
        copy = scratch / f"{uuid.uuid4()}.metadata.json"
        copy.write_text(json.dumps(meta))
        location = str(copy)
    provider = IcebergDataFusionTable(
        identifier=list(table.name()), metadata_location=location, file_io_properties={}
    )
    ctx = datafusion.SessionContext()
    ctx.register_table("t", provider)
    result: pa.Table = ctx.sql("SELECT * FROM t").to_arrow_table()
    return result


def _local(location: str) -> str:
    return location.removeprefix("file://")


# -- chDB's Iceberg writer ---------------------------------------------------------------------------


def chdb_table(folder: Path, columns: str, statements: list[str], format_version: int = 2) -> str:
    """Make an Iceberg table in ``folder`` with chDB's writer; return its latest metadata file.

    ``statements`` run against the table, named ``t``. chDB runs in a process of its own, started in the
    folder's parent: its ``IcebergLocal`` writes only under the working directory it starts in.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    script = "\n".join(
        [
            "from chdb import session",
            "with session.Session() as chs:",
            "    chs.query('SET allow_experimental_insert_into_iceberg = 1')",
            *(f"    chs.query({s!r})" for s in [
                f"CREATE TABLE t ({columns}) ENGINE = IcebergLocal('{folder}') "
                f"SETTINGS iceberg_format_version = {format_version}",
                *statements,
            ]),
        ]
    )  # fmt: skip
    subprocess.run([sys.executable, "-c", script], cwd=folder.parent, check=True, timeout=120)
    metadata = sorted((folder / "metadata").glob("v*.metadata.json"), key=lambda p: int(p.name[1:-14]))
    return str(metadata[-1])


# -- equality delete files -----------------------------------------------------------------------------


def commit_equality_deletes(table: Table, field: str, values: list[Any]) -> None:
    """Commit one equality delete file: the rows whose ``field`` is one of ``values`` are deleted.

    Written by hand (no writer here makes them): see ``ratatouille/testing/deletefiles.py``.
    """
    from ratatouille.testing import commit_equality_deletes as commit

    commit(table, {field: values})


def load(catalog: Catalog, name: str) -> Table:
    """The table as the catalog has it now."""
    return catalog.load_table(name)
