"""Reads after schema changes other engines make: columns matched by Iceberg field id, not by name.

A branch head is read with the table's current schema, a snapshot id, time or tag with its snapshot's.
Each case is compared with pyiceberg's own scan, which matches by field id.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.types import IntegerType, LongType

from ratatouille.fieldmapping import FOOTERS, names_are_ids
from ratatouille.session import Lakehouse

AMOUNTS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "amount": pa.array([10, 20, 30], pa.int64())})


def rows(lh: Lakehouse, sql: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = lh.query_arrow(sql).sort_by("id").to_pylist()
    return out


def pyiceberg_rows(lh: Lakehouse, table: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = lh.catalog.load_table(table).scan().to_arrow().sort_by("id").to_pylist()
    return out


def renamed(lh: Lakehouse, append: bool = True) -> int:
    """``b.t`` with ``amount`` renamed ``price`` (and a row appended under the new name): the old head."""
    lh.write(AMOUNTS, "b.t")
    table = lh.catalog.load_table("b.t")
    before = table.metadata.current_snapshot_id
    assert before is not None
    with table.update_schema() as update:
        update.rename_column("amount", "price")
    if append:
        table.append(pa.table({"id": pa.array([4], pa.int64()), "price": pa.array([40], pa.int64())}))
    return before


def test_rename_head_without_a_write_reads_the_new_name(lakehouse: Lakehouse) -> None:
    renamed(lakehouse, append=False)
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert got == pyiceberg_rows(lakehouse, "b.t")
    assert got[0] == {"id": 1, "price": 10}


def test_rename_then_append_reads_old_files_by_field_id(lakehouse: Lakehouse) -> None:
    renamed(lakehouse)
    got = rows(lakehouse, "SELECT id, price FROM {b.t}")
    assert [r["price"] for r in got] == [10, 20, 30, 40]
    assert got == pyiceberg_rows(lakehouse, "b.t")
    assert lakehouse.query_arrow("SELECT sum(price) AS s FROM {b.t}").to_pylist() == [{"s": 100}]


def test_time_travel_and_tags_keep_the_snapshot_schema(lakehouse: Lakehouse) -> None:
    before = renamed(lakehouse)
    assert rows(lakehouse, f"SELECT * FROM {{b.t@{before}}}") == AMOUNTS.to_pylist()
    lakehouse.catalog.load_table("b.t").manage_snapshots().create_tag(before, "v1").commit()
    assert rows(lakehouse, "SELECT * FROM {b.t@v1}") == AMOUNTS.to_pylist()
    # the head, in the same session (a snapshot cache key is per schema read)
    assert [r["price"] for r in rows(lakehouse, "SELECT * FROM {b.t}")] == [10, 20, 30, 40]


def test_a_branch_head_reads_the_current_schema(lakehouse: Lakehouse) -> None:
    before = renamed(lakehouse, append=False)
    table = lakehouse.catalog.load_table("b.t")
    table.manage_snapshots().create_branch(before, "audit").commit()
    table = lakehouse.catalog.load_table("b.t")
    table.append(
        pa.table({"id": pa.array([5], pa.int64()), "price": pa.array([50], pa.int64())}), branch="audit"
    )
    got = rows(lakehouse, "SELECT * FROM {b.t@audit}")
    assert got == [*[{"id": i, "price": p} for i, p in [(1, 10), (2, 20), (3, 30)]], {"id": 5, "price": 50}]
    assert rows(lakehouse, "SELECT * FROM {b.t@main}") == pyiceberg_rows(lakehouse, "b.t")


def test_pruning_after_a_rename_keeps_results(lakehouse: Lakehouse) -> None:
    renamed(lakehouse)
    for where in ("price >= 20", "price = 40", "price < 15", "id = 2"):
        sql = f"SELECT id, price FROM {{b.t}} WHERE {where} ORDER BY id"
        expected = [r for r in pyiceberg_rows(lakehouse, "b.t") if _holds(r, where)]
        assert lakehouse.query_arrow(sql).to_pylist() == expected, where


def _holds(row: dict[str, Any], where: str) -> bool:
    column, op, value = where.split()
    v, x = row[column], int(value)
    return {">=": v >= x, "=": v == x, "<": v < x}[op]


def test_drop_then_readd_reads_null_from_old_files(lakehouse: Lakehouse) -> None:
    lakehouse.write(AMOUNTS, "b.t")
    table = lakehouse.catalog.load_table("b.t")
    with table.update_schema() as update:
        update.delete_column("amount")
    with table.update_schema() as update:
        update.add_column("amount", LongType())
    table.append(pa.table({"id": pa.array([4], pa.int64()), "amount": pa.array([40], pa.int64())}))
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert [r["amount"] for r in got] == [None, None, None, 40]
    assert got == pyiceberg_rows(lakehouse, "b.t")


def test_a_new_column_under_a_renamed_columns_old_name(lakehouse: Lakehouse) -> None:
    # The select list gives `price` from the stored `amount` and the new `amount` as NULL: the stored
    # column is named through the files' alias, not shadowed by the new column's.
    renamed(lakehouse, append=False)
    table = lakehouse.catalog.load_table("b.t")
    with table.update_schema() as update:
        update.add_column("amount", LongType())
    table.append(pa.table({"id": pa.array([4], pa.int64()), "price": pa.array([40], pa.int64()),
                           "amount": pa.array([7], pa.int64())}))  # fmt: skip
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert [(r["price"], r["amount"]) for r in got] == [(10, None), (20, None), (30, None), (40, 7)]
    assert got == pyiceberg_rows(lakehouse, "b.t")


def test_two_columns_swap_names(lakehouse: Lakehouse) -> None:
    lakehouse.write(pa.table({"id": pa.array([1], pa.int64()), "a": ["x"], "b": ["y"]}), "b.t")
    table = lakehouse.catalog.load_table("b.t")
    with table.update_schema() as update:
        update.rename_column("a", "tmp")
    with table.update_schema() as update:
        update.rename_column("b", "a")
        update.rename_column("tmp", "b")
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert got == [{"id": 1, "b": "x", "a": "y"}] == pyiceberg_rows(lakehouse, "b.t")


def test_reorder_head_reads_the_new_order(lakehouse: Lakehouse) -> None:
    lakehouse.write(AMOUNTS, "b.t")
    with lakehouse.catalog.load_table("b.t").update_schema() as update:
        update.move_first("amount")
    assert lakehouse.query_arrow("SELECT * FROM {b.t}").column_names == ["amount", "id"]


def test_nested_rename_in_a_struct_and_a_list_of_structs(lakehouse: Lakehouse) -> None:
    point = pa.struct([("x", pa.int64()), ("y", pa.int64())])
    data = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "p": pa.array([{"x": 1, "y": 2}, None], point),
            "ps": pa.array([[{"x": 1, "y": 2}], []], pa.list_(point)),
        }
    )
    lakehouse.write(data, "b.nested")
    table = lakehouse.catalog.load_table("b.nested")
    with table.update_schema() as update:
        update.rename_column("p.x", "z")
        update.rename_column("ps.element.x", "z")
    new_point = pa.struct([("z", pa.int64()), ("y", pa.int64())])
    table.append(
        pa.table(
            {
                "id": pa.array([3], pa.int64()),
                "p": pa.array([{"z": 5, "y": 6}], new_point),
                "ps": pa.array([[{"z": 5, "y": 6}]], pa.list_(new_point)),
            }
        )
    )
    got = rows(lakehouse, "SELECT * FROM {b.nested}")
    assert got[0]["p"] == {"z": 1, "y": 2} and got[0]["ps"] == [{"z": 1, "y": 2}]
    assert got[2]["p"] == {"z": 5, "y": 6} and got[2]["ps"] == [{"z": 5, "y": 6}]
    assert lakehouse.query_arrow("SELECT sum(p.z) AS s FROM {b.nested}").to_pylist() == [{"s": 6}]


def test_promotion_and_rename_together(lakehouse: Lakehouse) -> None:
    lakehouse.write(pa.table({"id": pa.array([1, 2], pa.int64()), "n": pa.array([1, 2], pa.int32())}), "b.t")
    table = lakehouse.catalog.load_table("b.t")
    assert isinstance(table.schema().find_field("n").field_type, IntegerType)
    with table.update_schema() as update:
        update.update_column("n", LongType())
        update.rename_column("n", "big")
    table.append(pa.table({"id": pa.array([3], pa.int64()), "big": pa.array([2**40], pa.int64())}))
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert got == [{"id": 1, "big": 1}, {"id": 2, "big": 2}, {"id": 3, "big": 2**40}]
    assert got == pyiceberg_rows(lakehouse, "b.t")


def test_delete_and_merge_after_a_rename_match_old_files(lakehouse: Lakehouse) -> None:
    renamed(lakehouse)
    lakehouse.delete("b.t", "price = 20")
    assert [r["id"] for r in rows(lakehouse, "SELECT * FROM {b.t}")] == [1, 3, 4]
    update = pa.table({"id": pa.array([1, 5], pa.int64()), "price": pa.array([11, 50], pa.int64())})
    lakehouse.write(update, "b.t", mode="merge", merge_keys=["id"])
    got = rows(lakehouse, "SELECT * FROM {b.t}")
    assert got == [
        {"id": 1, "price": 11},
        {"id": 3, "price": 30},
        {"id": 4, "price": 40},
        {"id": 5, "price": 50},
    ]
    assert got == pyiceberg_rows(lakehouse, "b.t")


def test_a_table_without_renames_reads_by_name_without_opening_files(lakehouse: Lakehouse) -> None:
    lakehouse.write(AMOUNTS, "b.t")
    lakehouse.write(
        pa.table({"id": [4], "amount": [40], "extra": ["x"]}), "b.t"
    )  # a new column: still by name
    table = lakehouse.catalog.load_table("b.t")
    assert names_are_ids(table.metadata, table.schema())
    FOOTERS.clear()
    sql = lakehouse.expand("SELECT * FROM {b.t}").sql
    assert "UNION ALL" not in sql and sql.count("Parquet") == 1
    assert FOOTERS.get(lakehouse.expand("SELECT * FROM {b.t}").reads[0].files[0]) is None
    assert [r["extra"] for r in rows(lakehouse, "SELECT * FROM {b.t}")] == [None, None, None, "x"]


def test_a_column_added_on_a_dev_branch_stays_off_mains_head(lakehouse: Lakehouse) -> None:
    from ratatouille import Rat

    rat = Rat(lakehouse)
    lakehouse.write(AMOUNTS, "b.t")
    rat.dev_start("feature/x")
    lakehouse.write(pa.table({"id": [4], "amount": [40], "note": ["n"]}), "b.t")
    assert "note" in lakehouse.query_arrow("SELECT * FROM {b.t}").column_names
    assert lakehouse.query_arrow("SELECT * FROM {b.t@main}").column_names == ["id", "amount"]


@pytest.mark.parametrize("append", [False, True])
def test_snapshot_cache_serves_the_head_with_the_current_schema(lakehouse: Lakehouse, append: bool) -> None:
    lakehouse.write(AMOUNTS, "b.t")
    lakehouse.query_arrow("SELECT * FROM {b.t}")  # may fill the cache with the old names
    with lakehouse.catalog.load_table("b.t").update_schema() as update:
        update.rename_column("amount", "price")
    if append:
        lakehouse.catalog.load_table("b.t").append(
            pa.table({"id": pa.array([4], pa.int64()), "price": pa.array([40], pa.int64())})
        )
    assert lakehouse.query_arrow("SELECT * FROM {b.t}").column_names == ["id", "price"]
    assert lakehouse.query_arrow("SELECT sum(price) AS s FROM {b.t}").to_pylist() == [{"s": 60 + 40 * append}]


def test_a_struct_with_some_sanitized_field_names(lakehouse: Lakehouse) -> None:
    # pyiceberg stores `d e` as `d_x20e`; `a` as is: the struct is rebuilt by position, not cast by name.
    mixed = pa.struct([("a", pa.int64()), ("d e", pa.int64())])
    data = pa.table({"id": pa.array([1], pa.int64()), "s": pa.array([{"a": 1, "d e": 2}], mixed)})
    lakehouse.write(data, "b.mixed")
    assert rows(lakehouse, "SELECT * FROM {b.mixed}") == [{"id": 1, "s": {"a": 1, "d e": 2}}]
