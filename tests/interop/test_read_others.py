"""ratatouille reads tables written by other Iceberg implementations (pyiceberg, chDB) as they do.

Each table is built in a fresh lakehouse with pyiceberg's schema and spec evolution calls, or by chDB's
Iceberg writer and registered in the catalog. ``rat``'s ``SELECT *`` is compared with pyiceberg's scan
(iceberg-rust's where pyiceberg refuses): same columns in the same order, same rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
)

from ratatouille import Rat
from ratatouille.tables.deletes import plan_snapshot
from tests.interop.outcomes import check, marks
from tests.interop.support import (
    assert_same,
    chdb_table,
    commit_equality_deletes,
    pyiceberg_read,
    rat_read,
    rust_read,
)

AMOUNTS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "amount": pa.array([10, 20, 30], pa.int64())})


def _amounts(catalog: Catalog, name: str) -> None:
    catalog.create_table(name, schema=AMOUNTS.schema).append(AMOUNTS)


def _same_as_pyiceberg(rat: Rat, catalog: Catalog, name: str) -> None:
    assert_same(rat_read(rat, name), pyiceberg_read(catalog.load_table(name)))


# -- rename ---------------------------------------------------------------------------------------------


@check("rename_head")
def test_rename_head(rat: Rat, catalog: Catalog) -> None:
    _amounts(catalog, "bronze.ren")
    with catalog.load_table("bronze.ren").update_schema() as update:
        update.rename_column("amount", "price")
    _same_as_pyiceberg(rat, catalog, "bronze.ren")


@check("rename_then_append")
def test_rename_then_append(rat: Rat, catalog: Catalog) -> None:
    _amounts(catalog, "bronze.ren")
    table = catalog.load_table("bronze.ren")
    with table.update_schema() as update:
        update.rename_column("amount", "price")
    table.append(pa.table({"id": pa.array([4], pa.int64()), "price": pa.array([40], pa.int64())}))
    _same_as_pyiceberg(rat, catalog, "bronze.ren")


@check("rename_time_travel")
def test_rename_time_travel(rat: Rat, catalog: Catalog) -> None:
    _amounts(catalog, "bronze.ren")
    table = catalog.load_table("bronze.ren")
    before = table.metadata.current_snapshot_id
    assert before is not None
    with table.update_schema() as update:
        update.rename_column("amount", "price")
    table.append(pa.table({"id": pa.array([4], pa.int64()), "price": pa.array([40], pa.int64())}))
    table = catalog.load_table("bronze.ren")
    # pyiceberg's time travel reads a snapshot with the schema it was written with.
    assert_same(rat_read(rat, f"bronze.ren@{before}"), pyiceberg_read(table, snapshot_id=before))


# -- drop and re-add, reorder ---------------------------------------------------------------------------


@check("drop_readd")
def test_drop_then_readd(rat: Rat, catalog: Catalog) -> None:
    _amounts(catalog, "bronze.readd")
    table = catalog.load_table("bronze.readd")
    with table.update_schema() as update:
        update.delete_column("amount")
    with table.update_schema() as update:
        update.add_column("amount", LongType())
    table.append(pa.table({"id": pa.array([4], pa.int64()), "amount": pa.array([40], pa.int64())}))
    _same_as_pyiceberg(rat, catalog, "bronze.readd")


def _moved(catalog: Catalog) -> None:
    _amounts(catalog, "bronze.moved")
    with catalog.load_table("bronze.moved").update_schema() as update:
        update.move_first("amount")


@check("reorder")
def test_reorder_then_append(rat: Rat, catalog: Catalog) -> None:
    _moved(catalog)
    catalog.load_table("bronze.moved").append(AMOUNTS.select(["amount", "id"]))
    _same_as_pyiceberg(rat, catalog, "bronze.moved")


@check("reorder_head")
def test_reorder_head(rat: Rat, catalog: Catalog) -> None:
    _moved(catalog)
    _same_as_pyiceberg(rat, catalog, "bronze.moved")


# -- nested rename, type promotion ----------------------------------------------------------------------


@check("nested_rename")
def test_nested_rename(rat: Rat, catalog: Catalog) -> None:
    point = pa.struct([("x", pa.int64()), ("y", pa.int64())])
    data = pa.table(
        {"id": pa.array([1, 2], pa.int64()), "p": pa.array([{"x": 1, "y": 2}, {"x": 3, "y": 4}], point)}
    )
    table = catalog.create_table("bronze.nested", schema=data.schema)
    table.append(data)
    with table.update_schema() as update:
        update.rename_column("p.x", "z")
    renamed = pa.struct([("z", pa.int64()), ("y", pa.int64())])
    table.append(pa.table({"id": pa.array([3], pa.int64()), "p": pa.array([{"z": 5, "y": 6}], renamed)}))
    _same_as_pyiceberg(rat, catalog, "bronze.nested")


@check("promotion")
def test_type_promotion(rat: Rat, catalog: Catalog) -> None:
    schema = Schema(
        NestedField(1, "id", IntegerType()),
        NestedField(2, "ratio", FloatType()),
        NestedField(3, "price", DecimalType(9, 2)),
    )
    table = catalog.create_table("bronze.promoted", schema=schema)
    table.append(
        pa.table(
            {
                "id": pa.array([1, 2], pa.int32()),
                "ratio": pa.array([0.5, 0.25], pa.float32()),
                "price": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(9, 2)),
            }
        )
    )
    with table.update_schema() as update:
        update.update_column("id", LongType())
        update.update_column("ratio", DoubleType())
        update.update_column("price", DecimalType(18, 2))
    table.append(
        pa.table(
            {
                "id": pa.array([2**40], pa.int64()),
                "ratio": pa.array([0.1], pa.float64()),
                "price": pa.array([decimal.Decimal("123456789012.50")], pa.decimal128(18, 2)),
            }
        )
    )
    _same_as_pyiceberg(rat, catalog, "bronze.promoted")


# -- row-level deletes ----------------------------------------------------------------------------------


@check("position_deletes")
def test_position_deletes(rat: Rat, catalog: Catalog, tmp_path: Path) -> None:
    metadata = chdb_table(
        tmp_path / "chdb_pd",
        "id Int64, v Nullable(String)",
        [
            "INSERT INTO t SELECT number, toString(number) FROM numbers(10)",
            "ALTER TABLE t DELETE WHERE id IN (1, 4, 7)",
        ],
    )
    table = catalog.register_table("bronze.pd", metadata)
    expected = pyiceberg_read(table)
    assert expected.num_rows == 7
    assert_same(rat_read(rat, "bronze.pd"), expected)
    _compacted_reads_the_same(rat, catalog, "bronze.pd", expected)


def _compacted_reads_the_same(rat: Rat, catalog: Catalog, name: str, expected: pa.Table) -> None:
    """After ``ice_compact`` the table has no delete file, and every reader sees the same rows."""
    assert rat.ice_compact(name)["delete_files_removed"] >= 1
    table = catalog.load_table(name)
    assert all(not task.delete_files for task in table.scan().plan_files())  # would raise on equality
    assert_same(rat_read(rat, name), expected)
    assert_same(pyiceberg_read(table), expected, who="pyiceberg")


@check("equality_deletes")
def test_equality_deletes(rat: Rat, catalog: Catalog) -> None:
    data = pa.table({"id": pa.array(range(10), pa.int64()), "v": [str(i) for i in range(10)]})
    table = catalog.create_table("bronze.eq", schema=data.schema)
    table.append(data)
    commit_equality_deletes(catalog.load_table("bronze.eq"), "id", [1, 4, 7])
    # A row appended after the delete file is not deleted by it, even with a deleted id.
    catalog.load_table("bronze.eq").append(pa.table({"id": pa.array([4], pa.int64()), "v": ["again"]}))
    table = catalog.load_table("bronze.eq")
    with pytest.raises(ValueError, match="equality deletes"):
        pyiceberg_read(table)  # pyiceberg refuses: iceberg-rust is the reference here
    expected = rust_read(table)
    kept = [i for i in range(10) if i not in (1, 4, 7)]
    assert sorted(expected.column("id").to_pylist()) == sorted([*kept, 4])
    assert_same(rat_read(rat, "bronze.eq"), expected)
    _compacted_reads_the_same(rat, catalog, "bronze.eq", expected)


@check("deletes_after_rename")
def test_deletes_after_a_rename(rat: Rat, catalog: Catalog) -> None:
    from ratatouille.testing import commit_position_deletes

    data = pa.table({"id": pa.array(range(10), pa.int64()), "v": [f"v{i}" for i in range(10)]})
    table = catalog.create_table("bronze.eqr", schema=data.schema)
    table.append(data)
    commit_equality_deletes(catalog.load_table("bronze.eqr"), "v", ["v1", "v4"])  # holds the name v
    with catalog.load_table("bronze.eqr").update_schema() as update:
        update.rename_column("v", "label")
    table = catalog.load_table("bronze.eqr")
    table.append(pa.table({"id": pa.array([10, 11], pa.int64()), "label": ["v10", "v4"]}))
    table = catalog.load_table("bronze.eqr")
    first = next(
        f for f in plan_snapshot(table, table.metadata.current_snapshot_id)[0] if f.record_count == 10
    )
    commit_position_deletes(table, {first.file_path: [7]})
    table = catalog.load_table("bronze.eqr")
    expected = rust_read(table)
    assert sorted(expected.column("id").to_pylist()) == [0, 2, 3, 5, 6, 8, 9, 10, 11]
    assert expected.column_names == ["id", "label"]
    assert_same(rat_read(rat, "bronze.eqr"), expected)
    _compacted_reads_the_same(rat, catalog, "bronze.eqr", expected)


# -- partition spec evolution, branches -----------------------------------------------------------------

EVENTS = Schema(
    NestedField(1, "id", LongType()),
    NestedField(2, "region", StringType()),
    NestedField(3, "ts", TimestampType()),
)


def _events(ids: range, region: str, day: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(list(ids), pa.int64()),
            "region": [region] * len(ids),
            "ts": [dt.datetime(2024, 1, day, 12) for _ in ids],
        }
    )


@check("spec_evolution")
def test_spec_evolution(rat: Rat, catalog: Catalog) -> None:
    spec = PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "region"))
    table = catalog.create_table("bronze.specs", schema=EVENTS, partition_spec=spec)
    table.append(_events(range(0, 3), "eu", 1))
    table.append(_events(range(3, 6), "us", 2))
    with table.update_spec() as update:
        update.add_field("ts", DayTransform(), "ts_day")
        update.remove_field("region")
    table.append(_events(range(6, 9), "eu", 3))
    table.append(_events(range(9, 12), "us", 4))
    table = catalog.load_table("bronze.specs")
    assert len(table.metadata.partition_specs) == 2
    assert_same(rat_read(rat, "bronze.specs"), pyiceberg_read(table))
    where = "region = 'eu' AND ts >= '2024-01-02 00:00:00'"
    got = rat_read(rat, "bronze.specs", where=where)
    assert_same(got, pyiceberg_read(table, row_filter="region = 'eu' and ts >= '2024-01-02T00:00:00'"))
    read = rat.session.expand(f"SELECT * FROM {{bronze.specs}} WHERE {where}").reads[0]
    assert read.planned_files < read.total_files  # pruned across both specs


@check("spec_evolution_replaced")
def test_spec_replaced(rat: Rat, catalog: Catalog) -> None:
    spec = PartitionSpec(PartitionField(3, 1000, DayTransform(), "ts_day"))
    table = catalog.create_table("bronze.specs", schema=EVENTS, partition_spec=spec)
    table.append(_events(range(0, 3), "eu", 1))
    with table.update_spec() as update:
        update.remove_field("ts_day")
        update.add_identity("region")
    table.append(_events(range(3, 6), "us", 2))
    table = catalog.load_table("bronze.specs")
    assert [f.name for f in table.spec().fields] == ["region"]
    _same_as_pyiceberg(rat, catalog, "bronze.specs")


@check("branch")
def test_branch(rat: Rat, catalog: Catalog) -> None:
    _amounts(catalog, "bronze.branched")
    table = catalog.load_table("bronze.branched")
    assert table.metadata.current_snapshot_id is not None
    table.manage_snapshots().create_branch(table.metadata.current_snapshot_id, "audit").commit()
    table = catalog.load_table("bronze.branched")
    table.append(
        pa.table({"id": pa.array([4], pa.int64()), "amount": pa.array([40], pa.int64())}), branch="audit"
    )
    table = catalog.load_table("bronze.branched")
    head = table.metadata.refs["audit"].snapshot_id
    assert_same(rat_read(rat, "bronze.branched@audit"), pyiceberg_read(table, snapshot_id=head))
    assert_same(rat_read(rat, "bronze.branched"), pyiceberg_read(table))


# -- format versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version", [pytest.param(2, marks=marks("v2_chdb")), pytest.param(3, marks=marks("v3_chdb"))]
)
def test_chdb_format_version(rat: Rat, catalog: Catalog, tmp_path: Path, version: int) -> None:
    metadata = chdb_table(
        tmp_path / f"chdb_v{version}",
        "id Int64, name Nullable(String), ts Nullable(DateTime64(6))",
        [
            "INSERT INTO t SELECT number, toString(number), toDateTime64('2024-01-01', 6) + number "
            "FROM numbers(5)",
            "INSERT INTO t VALUES (5, NULL, NULL)",
        ],
        format_version=version,
    )
    table = catalog.register_table(f"bronze.chdb_v{version}", metadata)
    assert table.metadata.format_version == version
    _same_as_pyiceberg(rat, catalog, f"bronze.chdb_v{version}")
