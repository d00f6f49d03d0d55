"""Writes to a table in a format version this writer cannot write (v3): one clear refusal, nothing written.

pyiceberg 0.11 writes format versions 1 and 2: it writes no v3 manifest, and serializes no v3 metadata
file (even a metadata-only commit fails). Every ratatouille commit opens its transaction through
``ratatouille.tables.commit.transaction``, which refuses such a table before anything is written. The v3
table is made by chDB's Iceberg writer (two inserts: two snapshots, two small files) and registered.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from tests.interop.support import chdb_table

NAME = "bronze.t"
REFUSAL = (
    "table bronze.t is Iceberg format version 3, which this writer cannot write (pyiceberg writes "
    "versions 1 and 2); nothing was written"
)


@pytest.fixture(scope="module")
def v3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rat]:
    """A lakehouse with a v3 table written by chDB registered as ``bronze.t`` (for the whole module: every
    test leaves it as it was, and checks so)."""
    folder = tmp_path_factory.mktemp("v3")
    metadata = chdb_table(folder / "chdb_v3", "id Int64, v Nullable(String)",
                          ["INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c')"],
                          format_version=3)  # fmt: skip
    lh = Lakehouse(Settings.for_home(folder / "home"))
    rat = Rat(lh)
    rat.session.catalog.create_namespace("bronze")
    rat.session.catalog.register_table(NAME, metadata)
    yield rat
    lh.close()


def _state(rat: Rat) -> tuple[Any, ...]:
    """Everything a write could change: the metadata file, the head, the rows, every file of the table."""
    table = rat.session.catalog.load_table(NAME)
    location = Path(table.location().removeprefix("file://"))
    files = sorted(str(p.relative_to(location)) for p in location.rglob("*") if p.is_file())
    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    return table.metadata_location, table.metadata.current_snapshot_id, rows, files


def _csv(rat: Rat) -> str:
    path = Path(rat.session.settings.home) / "new.csv"
    path.write_text("id,v\n9,z\n")
    return str(path)


WRITES: dict[str, Callable[[Rat], Any]] = {
    "append": lambda rat: rat.ice_ingest_df(pd.DataFrame({"id": [4], "v": ["d"]}), NAME),
    "overwrite": lambda rat: rat.ice_ingest_df(pd.DataFrame({"id": [4], "v": ["d"]}), NAME, mode="overwrite"),
    "merge": lambda rat: rat.ice_merge(pd.DataFrame({"id": [1, 4], "v": ["A", "d"]}), NAME, ["id"]),
    "delete": lambda rat: rat.ice_delete(NAME, "id = 1"),
    "compact": lambda rat: rat.ice_compact(NAME),
    "transform": lambda rat: rat.transform("SELECT 5 AS id, 'e' AS v", NAME, mode="append"),
    "ingest a file": lambda rat: rat.ice_ingest(_csv(rat), NAME),
    "document": lambda rat: rat.ice_document(NAME, "a table", columns={"id": "the key"}),
    "policy": lambda rat: rat.ice_policy(NAME, retain_last=3),
    "partition": lambda rat: rat.ice_partition(NAME, ["id"]),
    "expire": lambda rat: rat.ice_expire(NAME, older_than="0s", retain_last=1),
    "dev branch": lambda rat: rat.dev_start("dev", [NAME]),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_to_a_v3_table_is_refused_before_anything_is_written(v3: Rat, write: str) -> None:
    assert v3.session.catalog.load_table(NAME).metadata.format_version == 3
    before = _state(v3)
    with pytest.raises(InvalidInput) as refused:
        WRITES[write](v3)
    assert str(refused.value) == REFUSAL
    assert _state(v3) == before
    v3.session.use_branch(None)
    assert sorted(v3.query(f"SELECT id FROM {{{NAME}}}")["id"]) == [1, 2, 3]  # still read


def test_maintenance_skips_a_v3_table_and_reads_still_work(v3: Rat) -> None:
    before = _state(v3)
    report = v3.ice_maintain(NAME)[NAME]
    assert report["skipped"] == REFUSAL
    assert _state(v3) == before


def test_every_commit_opens_its_transaction_through_the_format_check() -> None:
    """No product module opens a pyiceberg transaction itself (``table.transaction()``,
    ``table.manage_snapshots()``): ``ratatouille.tables.commit`` does, after the format check."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("ratatouille", "ratatouille_jupyter"):
        for path in sorted((root / package).rglob("*.py")):
            if path.relative_to(root).parts[:2] == ("ratatouille", "testing"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("transaction", "manage_snapshots")
                    and not node.args
                    and not node.keywords
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
