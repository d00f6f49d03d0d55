"""Row-level delete files (written by other engines): reads apply them, compaction rewrites them away.

The delete files are committed by hand (``ratatouille.testing``), so each case runs on both setups: the
engine's ``_path`` reads as a local path in one and as ``bucket/key`` in the other.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, NestedField, StringType

from ratatouille.errors import Conflict, InvalidInput, RatError
from ratatouille.sdk import Rat
from ratatouille.testing import commit_equality_deletes, commit_position_deletes

from .conftest import data_files

ROWS = pa.schema([("id", pa.int64()), ("v", pa.string())])


def _table(rat: Rat, name: str, batches: list[range]) -> Any:
    catalog = rat.session.catalog
    catalog.create_namespace_if_not_exists(name.split(".")[0])
    table = catalog.create_table(name, schema=ROWS)
    for ids in batches:
        table.append(pa.table({"id": list(ids), "v": [f"v{i}" for i in ids]}, schema=ROWS))
    return catalog.load_table(name)


def _ids(rat: Rat, sql: str) -> list[int]:
    return sorted(int(i) for i in rat.query(sql)["id"])


def _file_holding(table: Any, first_id: int) -> str:
    from ratatouille.tables.deletes import plan_snapshot

    for f in plan_snapshot(table, table.metadata.current_snapshot_id)[0]:  # pyiceberg's scan refuses
        if f.lower_bounds and int.from_bytes(f.lower_bounds[1], "little") == first_id:  # equality deletes
            return str(f.file_path)
    raise AssertionError(f"no file starts at {first_id}")


def test_position_deletes_are_applied_to_the_files_they_name(rat: Rat) -> None:
    table = _table(rat, "bronze.pos", [range(0, 10), range(10, 20)])
    first = _file_holding(table, 0)
    commit_position_deletes(table, {first: [0, 3, 9]})  # ids 0, 3, 9 of the first file only
    expected = [i for i in range(20) if i not in (0, 3, 9)]
    assert _ids(rat, "SELECT id FROM {bronze.pos}") == expected
    assert _ids(rat, "SELECT id FROM {bronze.pos} WHERE id < 5") == [1, 2, 4]  # a pruned read
    assert rat.query("SELECT count() AS n FROM {bronze.pos}")["n"][0] == 17
    pyiceberg = sorted(rat.session.catalog.load_table("bronze.pos").scan().to_arrow()["id"].to_pylist())
    assert pyiceberg == expected


def test_equality_deletes_respect_sequence_numbers_and_match_nulls(rat: Rat) -> None:
    table = _table(rat, "bronze.eqd", [range(0, 10)])
    table.append(pa.table({"id": [None, 50], "v": ["null id", None]}, schema=ROWS))
    commit_equality_deletes(rat.session.catalog.load_table("bronze.eqd"), {"id": [2, 5, None]})
    # Rows written after the delete file are not deleted by it, even with a deleted value.
    rat.session.catalog.load_table("bronze.eqd").append(
        pa.table({"id": [5, None], "v": ["new", "new"]}, schema=ROWS)
    )
    got = rat.arrow("SELECT id, v FROM {bronze.eqd} ORDER BY id NULLS FIRST, v").to_pydict()
    kept = [i for i in range(10) if i not in (2, 5)]
    assert got["v"] == [
        "new",
        *[f"v{i}" for i in kept[:4]],
        "new",
        *[f"v{i}" for i in kept[4:]],
        None,
    ]
    # A query with a condition of its own runs it before the lookups (tables/deletes/engine.py): the
    # same rows, the NULL key deleted too.
    filtered = rat.arrow("SELECT v FROM {bronze.eqd} WHERE v >= '' ORDER BY v").to_pydict()["v"]
    assert filtered == sorted(["new", "new", *[f"v{i}" for i in kept]])
    # Two columns: a row goes only when both match.
    commit_equality_deletes(
        rat.session.catalog.load_table("bronze.eqd"), {"id": [7, 8], "v": ["v7", "other"]}
    )
    assert 7 not in _ids(rat, "SELECT id FROM {bronze.eqd} WHERE id IS NOT NULL")
    assert 8 in _ids(rat, "SELECT id FROM {bronze.eqd} WHERE id IS NOT NULL")


def test_partitioned_equality_deletes_apply_in_their_partition_only(rat: Rat) -> None:
    catalog = rat.session.catalog
    catalog.create_namespace_if_not_exists("bronze")
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "region", StringType(), required=False),
    )
    spec = PartitionSpec(
        PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="region")
    )
    table = catalog.create_table("bronze.part", schema=schema, partition_spec=spec)
    arrow = schema.as_arrow()
    table.append(pa.table({"id": [1, 2, 1, 2], "region": ["eu", "eu", "us", "us"]}, schema=arrow))
    commit_equality_deletes(catalog.load_table("bronze.part"), {"id": [1]}, partition=Record("eu"))
    got = rat.query("SELECT id, region FROM {bronze.part} ORDER BY region, id")
    assert list(zip(got["id"], got["region"], strict=True)) == [(2, "eu"), (1, "us"), (2, "us")]
    assert rat.ice_compact("bronze.part")["delete_files_removed"] == 1
    again = rat.query("SELECT id, region FROM {bronze.part} ORDER BY region, id")
    assert list(zip(again["id"], again["region"], strict=True)) == [(2, "eu"), (1, "us"), (2, "us")]


def test_compaction_rewrites_deleted_files_and_drops_every_delete_file(rat: Rat) -> None:
    table = _table(rat, "bronze.cmp", [range(0, 10), range(10, 20), range(20, 30)])
    commit_position_deletes(table, {_file_holding(table, 10): [1, 2]})
    commit_equality_deletes(rat.session.catalog.load_table("bronze.cmp"), {"id": [25]})
    expected = [i for i in range(30) if i not in (11, 12, 25)]
    assert _ids(rat, "SELECT id FROM {bronze.cmp}") == expected
    report = rat.ice_compact("bronze.cmp")
    assert report["delete_files_removed"] == 2
    table = rat.session.catalog.load_table("bronze.cmp")
    manifests = table.current_snapshot().manifests(table.io)  # type: ignore[union-attr]
    assert all(m.content.value == 0 for m in manifests)
    assert _ids(rat, "SELECT id FROM {bronze.cmp}") == expected
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == expected
    # Plain files again: row-level writes work.
    rat.ice_delete("bronze.cmp", "id = 0")
    assert _ids(rat, "SELECT id FROM {bronze.cmp}") == expected[1:]


def test_the_snapshot_cache_holds_the_rows_left(rat: Rat) -> None:
    cache = rat.session.engine.cache
    if not cache.enabled:
        pytest.skip("no snapshot cache on this setup")
    table = _table(rat, "bronze.cch", [range(0, 10)])
    commit_position_deletes(table, {_file_holding(table, 0): [4]})
    commit_equality_deletes(rat.session.catalog.load_table("bronze.cch"), {"id": [6]})
    expected = [i for i in range(10) if i not in (4, 6)]
    for _ in range(3):  # the first fills, the others are served from the cache
        assert _ids(rat, "SELECT id FROM {bronze.cch}") == expected
    assert rat.cache_info().hits >= 1


def test_an_append_keeps_the_deletes_and_writes_that_rewrite_files_say_compact(rat: Rat) -> None:
    table = _table(rat, "bronze.app", [range(0, 10)])
    _ids(rat, "SELECT id FROM {bronze.app}")
    commit_position_deletes(table, {_file_holding(table, 0): [0]})
    assert _ids(rat, "SELECT id FROM {bronze.app}") == list(range(1, 10))
    rat.ice_ingest_df(pd.DataFrame({"id": [0], "v": ["again"]}), "bronze.app", mode="append")
    assert _ids(rat, "SELECT id FROM {bronze.app}") == list(range(10))
    with pytest.raises(InvalidInput, match=r"row-level delete files.*ice_compact"):
        rat.ice_delete("bronze.app", "id = 3")
    with pytest.raises(InvalidInput, match=r"row-level delete files.*ice_compact"):
        rat.ice_merge(pd.DataFrame({"id": [3], "v": ["m"]}), "bronze.app", ["id"])


def test_new_rows_refuse_a_source_whose_rows_were_deleted_by_delete_files(rat: Rat) -> None:
    table = _table(rat, "bronze.src", [range(0, 5)])
    rat.transform("SELECT id FROM {bronze.src@new}", "silver.dst")
    commit_position_deletes(table, {_file_holding(table, 0): [1]})
    with pytest.raises((Conflict, InvalidInput), match=r"bronze\.src"):
        rat.transform("SELECT id FROM {bronze.src@new}", "silver.dst", mode="append")


def test_deletion_vectors_are_one_clear_error(rat: Rat) -> None:
    from pyiceberg.manifest import FileFormat

    table = _table(rat, "bronze.dv", [range(0, 3)])
    commit_position_deletes(table, {_file_holding(table, 0): [1]}, file_format=FileFormat.PUFFIN)
    with pytest.raises(InvalidInput, match=r"deletion vectors"):
        rat.query("SELECT * FROM {bronze.dv}")


def test_an_unknown_format_version_is_one_clear_error(local_rat: Rat, tmp_path: Path) -> None:
    table = _table(local_rat, "bronze.v4", [range(0, 3)])
    meta = json.loads(Path(table.metadata_location.removeprefix("file://")).read_text())
    meta["format-version"] = 4
    newer = tmp_path / "v9.metadata.json"
    newer.write_text(json.dumps(meta))
    uri = local_rat.session.settings.catalog_uri.removeprefix("sqlite:///")
    with sqlite3.connect(uri) as db:  # another engine moved the table on to a newer format
        db.execute("UPDATE iceberg_tables SET metadata_location = ? WHERE table_name = 'v4'", (str(newer),))
    with pytest.raises(InvalidInput, match="format version 4"):
        local_rat.query("SELECT * FROM {bronze.v4}")


def test_an_unknown_partition_transform_is_one_clear_error(local_rat: Rat, tmp_path: Path) -> None:
    table = _table(local_rat, "bronze.tr", [range(0, 3)])
    meta = json.loads(Path(table.metadata_location.removeprefix("file://")).read_text())
    meta["partition-specs"] = [
        {"spec-id": 0, "fields": [{"name": "z", "transform": "zorder[3]", "source-id": 1, "field-id": 1000}]}
    ]
    other = tmp_path / "tr.metadata.json"
    other.write_text(json.dumps(meta))
    local_rat.session.catalog.register_table("bronze.tr2", str(other))
    with pytest.raises(RatError, match=r"transform zorder\[3\]"):
        local_rat.query("SELECT * FROM {bronze.tr2}")
    assert data_files  # the helper module is shared with the compaction tests


def test_position_deletes_over_many_files_filter_on_one_key(
    rat: Rat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ratatouille.tables.deletes import engine as deletes

    monkeypatch.setattr(deletes, "PER_FILE_POSITIONS", 1)  # two files with deletes: one filtered read
    table = _table(rat, "bronze.many", [range(0, 10), range(10, 20), range(20, 30)])
    commit_position_deletes(table, {_file_holding(table, 0): [1], _file_holding(table, 10): [2, 9]})
    commit_equality_deletes(rat.session.catalog.load_table("bronze.many"), {"id": [25, 26]})
    expected = [i for i in range(30) if i not in (1, 12, 19, 25, 26)]
    assert _ids(rat, "SELECT id FROM {bronze.many}") == expected
    assert _ids(rat, "SELECT id FROM {bronze.many} WHERE id >= 10") == expected[9:]


def test_the_product_never_imports_the_delete_file_builders() -> None:
    """``ratatouille.testing`` is for tests and benchmarks: no product module imports it."""
    import ast

    root = Path(__file__).resolve().parents[2]
    found = []
    for package in ("ratatouille", "ratatouille_jupyter"):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[:2] == ("ratatouille", "testing"):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = parts[: len(parts) - node.level] if node.level else ()
                    module = ".".join([*base, *([node.module] if node.module else [])])
                    names = [module, *(f"{module}.{a.name}" for a in node.names)]
                else:
                    continue
                hits = [n for n in names if n.startswith("ratatouille.testing")]
                found += [f"{path.relative_to(root)}: {n}" for n in hits]
    assert found == []


def test_deletes_on_a_table_with_renamed_and_re_created_columns_match_by_field_id(rat: Rat) -> None:
    # v renamed to label, then a new v: position and equality deletes find their rows by field id, in
    # files written before and after, and the equality delete file holds the column's old name.
    table = _table(rat, "bronze.ren", [range(0, 5)])
    commit_equality_deletes(table, {"v": ["v1"]})  # names v, field 2: written before the rename
    with (table := rat.session.catalog.load_table("bronze.ren")).update_schema() as update:
        update.rename_column("v", "label")
    with (table := rat.session.catalog.load_table("bronze.ren")).update_schema() as update:
        update.add_column("v", StringType())
    table = rat.session.catalog.load_table("bronze.ren")
    arrow = table.schema().as_arrow()
    table.append(
        pa.table({"id": [5, 6, 7], "label": ["v5", "v6", "v7"], "v": ["new", None, "x"]}, schema=arrow)
    )
    table = rat.session.catalog.load_table("bronze.ren")
    commit_position_deletes(table, {_file_holding(table, 0): [3], _file_holding(table, 5): [2]})
    commit_equality_deletes(rat.session.catalog.load_table("bronze.ren"), {"label": ["v6"]})
    expected = {"id": [0, 2, 4, 5], "label": ["v0", "v2", "v4", "v5"], "v": [None, None, None, "new"]}
    for _ in range(3):  # the second read fills the snapshot cache, the third reads it
        got = rat.arrow("SELECT id, label, v FROM {bronze.ren} ORDER BY id").to_pydict()
        assert got == expected
    assert rat.ice_compact("bronze.ren")["delete_files_removed"] == 3
    assert rat.arrow("SELECT id, label, v FROM {bronze.ren} ORDER BY id").to_pydict() == expected


def test_a_read_the_files_refuse_is_the_same_error_when_the_cache_would_fill(
    rat: Rat, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ratatouille.sql import expansion

    _table(rat, "bronze.refused", [range(0, 5)])

    def refuse(*_: Any, **__: Any) -> str:
        raise InvalidInput("table bronze.refused cannot be read here")

    monkeypatch.setattr(expansion, "source_sql", refuse)  # both the cache's fill and the files' read
    for _ in range(2):  # the error itself, never a CacheWarning first
        with pytest.raises(InvalidInput, match="cannot be read here"):
            rat.query("SELECT * FROM {bronze.refused}")


def _equality_targets(rat: Rat, name: str) -> list[str]:
    """The data files some equality delete applies to, as planned for the whole current snapshot."""
    from ratatouille.tables.deletes import plan_snapshot

    table = rat.session.catalog.load_table(name)
    files, deletes = plan_snapshot(table, table.metadata.current_snapshot_id)
    assert deletes is not None
    return sorted({f for group in deletes.applying_to(files).equality for f in group.files})


@pytest.mark.parametrize(
    ("deleted", "reaches"),
    [
        ([3], "A"),  # within the first file's ids only
        ([3, 25], "ABC"),  # the range 3..25 overlaps every file's
        ([100], ""),  # past every file
        ([None], "B"),  # only NULLs deleted: the file holding a NULL id
        ([None, 3], "AB"),
    ],
)
def test_equality_deletes_skip_data_files_their_values_cannot_meet(
    rat: Rat, deleted: list[int | None], reaches: str
) -> None:
    table = _table(rat, "bronze.eqs", [range(0, 10)])
    table.append(pa.table({"id": [None, 12, 15], "v": ["n", "a", "b"]}, schema=ROWS))
    table = rat.session.catalog.load_table("bronze.eqs")
    table.append(pa.table({"id": [20, 25], "v": ["c", "d"]}, schema=ROWS))
    table = rat.session.catalog.load_table("bronze.eqs")
    files = {"A": _file_holding(table, 0), "B": _file_holding(table, 12), "C": _file_holding(table, 20)}
    commit_equality_deletes(table, {"id": deleted})
    assert _equality_targets(rat, "bronze.eqs") == sorted(files[k] for k in reaches)
    kept = [i for i in [*range(10), 12, 15, 20, 25] if i not in deleted]
    got = rat.query("SELECT id FROM {bronze.eqs}")["id"]
    assert sorted(int(i) for i in got if pd.notna(i)) == kept
    assert int(got.isna().sum()) == (0 if None in deleted else 1)


_ids_or_null = st.one_of(st.none(), st.integers(-5, 40))
_TABLES = itertools.count()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    batches=st.lists(st.lists(_ids_or_null, min_size=1, max_size=6), min_size=1, max_size=4),
    deleted=st.lists(_ids_or_null, min_size=1, max_size=5),
    after=st.lists(_ids_or_null, max_size=3),
)
def test_equality_deletes_equal_a_model_whatever_the_files_hold(
    local_rat: Rat, batches: list[list[int | None]], deleted: list[int | None], after: list[int | None]
) -> None:
    # Files with random ids and NULLs, an equality delete, then an append the delete does not touch:
    # skipping files by their stats must never change the rows read.
    name = f"bronze.eqm_{next(_TABLES)}"
    table = _table(local_rat, name, [])
    for ids in batches:
        table.append(pa.table({"id": ids, "v": ["x"] * len(ids)}, schema=ROWS))
    commit_equality_deletes(local_rat.session.catalog.load_table(name), {"id": deleted})
    if after:
        local_rat.session.catalog.load_table(name).append(
            pa.table({"id": after, "v": ["x"] * len(after)}, schema=ROWS)
        )
    gone = set(deleted)
    model = [i for ids in batches for i in ids if i not in gone] + list(after)
    got = local_rat.query(f"SELECT id FROM {{{name}}}")["id"]
    key = [-(10**9) if i is None else i for i in model]
    assert sorted(-(10**9) if pd.isna(i) else int(i) for i in got) == sorted(key)


@pytest.mark.parametrize("renamed", [False, True])
def test_an_equality_delete_on_a_column_older_files_lack_matches_their_nulls(rat: Rat, renamed: bool) -> None:
    # Files written before `c` existed hold NULL there: a delete of c = NULL removes their rows, one of
    # c = 'x' none of them. With a rename in the history, the files are read by their footers.
    table = _table(rat, "bronze.late", [range(0, 3)])
    with table.update_schema() as update:
        update.add_column("c", StringType())
        if renamed:
            update.rename_column("v", "label")
    table = rat.session.catalog.load_table("bronze.late")
    arrow = table.schema().as_arrow()
    table.append(
        pa.table({"id": [3, 4, 5], arrow.names[1]: ["a", "b", "c"], "c": ["x", None, "y"]}, schema=arrow)
    )
    commit_equality_deletes(rat.session.catalog.load_table("bronze.late"), {"c": [None, "x"]})
    assert _ids(rat, "SELECT id FROM {bronze.late}") == [5]
