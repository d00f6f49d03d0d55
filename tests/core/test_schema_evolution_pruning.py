"""File pruning after schema changes other engines make: conditions bound to Iceberg field ids.

Each table has one file per append, the values of the changed column in disjoint ranges from file to
file. Every filtered read is compared with pyiceberg's scan and with the same read without pruning, and
counts the files it plans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyiceberg.types import DoubleType, LongType

from ratatouille.session import Lakehouse
from ratatouille.sql import pruning_disabled

Row = dict[str, Any]


def append(lh: Lakehouse, table: str, columns: dict[str, pa.Array]) -> None:
    """One pyiceberg append: one data file."""
    lh.catalog.load_table(table).append(pa.table(columns))


def longs(values: list[int | None]) -> pa.Array:
    return pa.array(values, pa.int64())


def renamed_table(lh: Lakehouse) -> int:
    """``b.r``: 4 files of ``amount`` in [100k, 100k + 50], renamed ``price``, a new ``amount``, a 5th file.

    Returns the snapshot before the rename (read with the old names).
    """
    for k in range(4):
        lh.write(pa.table({"id": longs([2 * k, 2 * k + 1]), "amount": longs([100 * k, 100 * k + 50])}), "b.r")
    table = lh.catalog.load_table("b.r")
    before = table.metadata.current_snapshot_id
    assert before is not None
    with table.update_schema() as update:
        update.rename_column("amount", "price")
    with table.update_schema() as update:
        update.add_column("amount", LongType())  # the old name, another field id
    append(lh, "b.r", {"id": longs([8, 9]), "price": longs([400, 450]), "amount": longs([7, 8])})
    return before


def recreated_table(lh: Lakehouse) -> None:
    """``b.c``: 3 files of ``amount``; dropped, added again (a new field id); 3 more, a NULL in the last."""
    for k in range(3):
        lh.write(pa.table({"id": longs([2 * k, 2 * k + 1]), "amount": longs([100 * k, 100 * k + 50])}), "b.c")
    table = lh.catalog.load_table("b.c")
    with table.update_schema() as update:
        update.delete_column("amount")
    with table.update_schema() as update:
        update.add_column("amount", LongType())
    for k in range(3, 6):
        amounts = [1000 + 100 * k, None if k == 5 else 1000 + 100 * k + 50]
        append(lh, "b.c", {"id": longs([2 * k, 2 * k + 1]), "amount": longs(amounts)})


def promoted_table(lh: Lakehouse) -> None:
    """``b.p``: 3 files of int ``qty`` and float ``w``; promoted to long and double; 2 files, one NULL."""
    for k in range(3):
        data = {
            "id": longs([2 * k, 2 * k + 1]),
            "qty": pa.array([100 * k, 100 * k + 50], pa.int32()),
            "w": pa.array([k + 0.25, k + 0.5], pa.float32()),
        }
        lh.write(pa.table(data), "b.p")
    table = lh.catalog.load_table("b.p")
    with table.update_schema() as update:
        update.update_column("qty", LongType())
        update.update_column("w", DoubleType())
    for k in range(3, 5):
        qty = longs([2**40 + k, None if k == 4 else 100 * k])
        w = pa.array([k + 0.25, k + 0.5], pa.float64())
        append(lh, "b.p", {"id": longs([2 * k, 2 * k + 1]), "qty": qty, "w": w})


def read(lh: Lakehouse, sql: str) -> tuple[list[Row], tuple[int, int]]:
    """The rows (by id) and (planned, total) files of a one-reference query, checked without pruning."""
    plan = lh.expand(sql).reads[0]
    got: list[Row] = lh.query_arrow(sql).sort_by("id").to_pylist()
    with pruning_disabled():
        assert got == lh.query_arrow(sql).sort_by("id").to_pylist(), sql
    return got, (plan.planned_files, plan.total_files)


def pyiceberg_rows(lh: Lakehouse, table: str, row_filter: str, snapshot_id: int | None = None) -> list[Row]:
    scan = lh.catalog.load_table(table).scan(row_filter=row_filter, snapshot_id=snapshot_id)
    out: list[Row] = scan.to_arrow().sort_by("id").to_pylist()
    return out


def test_a_renamed_column_prunes_by_field_id(lakehouse: Lakehouse) -> None:
    before = renamed_table(lakehouse)
    for where, files in [
        ("price >= 400", 1),
        ("price BETWEEN 120 AND 160", 1),
        ("price IN (0, 350)", 2),
        ("price < 0", 0),
        ("price IS NULL", 0),
        ("price > 100 AND id < 4", 1),
    ]:
        got, (planned, total) = read(lakehouse, f"SELECT * FROM {{b.r}} WHERE {where}")
        assert got == pyiceberg_rows(lakehouse, "b.r", where), where
        assert (planned, total) == (files, 5), where
    # The snapshot before the rename is read with its names: `amount` there is `price` now (the current
    # `amount` is another field).
    for where, current, files in [("amount >= 300", "price >= 300", 1), ("amount = 50", "price = 50", 1)]:
        got, (planned, total) = read(lakehouse, f"SELECT * FROM {{b.r@{before}}} WHERE {where}")
        assert got == pyiceberg_rows(lakehouse, "b.r", current, before), where
        assert (planned, total) == (files, 4), where


def test_a_recreated_column_keeps_the_files_written_before_it(lakehouse: Lakehouse) -> None:
    recreated_table(lakehouse)
    for where, files in [
        # The 3 files written before have no statistics for the new field id: kept, and their rows are
        # NULL there (not matched), whatever the predicate.
        ("amount >= 1400", 3 + 2),
        ("amount = 1350", 3 + 1),
        ("amount < 0", 3 + 0),
        ("amount IS NOT NULL", 3 + 3),
        # They are exactly the NULLs: `IS NULL` keeps them and the new file with a NULL.
        ("amount IS NULL", 3 + 1),
    ]:
        got, (planned, total) = read(lakehouse, f"SELECT * FROM {{b.c}} WHERE {where}")
        assert got == pyiceberg_rows(lakehouse, "b.c", where), where
        assert (planned, total) == (files, 6), where
    got, _ = read(lakehouse, "SELECT * FROM {b.c} WHERE amount IS NULL")
    assert [r["id"] for r in got] == [0, 1, 2, 3, 4, 5, 11]


def test_a_promoted_column_prunes_on_null_counts_only(lakehouse: Lakehouse) -> None:
    promoted_table(lakehouse)
    every: list[Row] = lakehouse.catalog.load_table("b.p").scan().to_arrow().sort_by("id").to_pylist()
    checks: list[tuple[str, Callable[[Row], bool], int]] = [
        # pyiceberg 0.11 cannot decode the older files' 4-byte bounds as long (its own filtered scan
        # fails): every file is read, and the result is still right.
        ("qty >= 250", lambda r: r["qty"] is not None and r["qty"] >= 250, 5),
        ("w > 2.4", lambda r: r["w"] > 2.4, 5),
        ("qty IS NULL", lambda r: r["qty"] is None, 1),
        ("qty IS NOT NULL AND w IS NULL", lambda r: False, 0),
    ]
    for where, holds, files in checks:
        got, (planned, total) = read(lakehouse, f"SELECT * FROM {{b.p}} WHERE {where}")
        assert got == [r for r in every if holds(r)], where
        assert (planned, total) == (files, 5), where
    with pytest.raises(Exception, match="unpack"):  # the reason: when pyiceberg reads them, drop this
        pyiceberg_rows(lakehouse, "b.p", "qty >= 250")
    # Deletes and merges prune with the same rule: the promoted column does not stop them.
    lakehouse.delete("b.p", "qty = 150")
    update = pa.table({"id": longs([3, 20]), "qty": longs([7, 2**41]), "w": pa.array([1.0, 2.0])})
    lakehouse.write(update, "b.p", mode="merge", merge_keys=["qty"])
    got, _ = read(lakehouse, "SELECT id, qty FROM {b.p}")
    assert [(r["id"], r["qty"]) for r in got] == [
        (0, 0), (1, 50), (2, 100), (3, 7), (4, 200), (5, 250), (6, 2**40 + 3), (7, 300), (8, 2**40 + 4),
        (9, None), (20, 2**41),
    ]  # fmt: skip


ATOMS = {
    "price": st.integers(-10, 500).map(str),
    "amount": st.integers(0, 10).map(str),
    "id": st.integers(-1, 10).map(str),
}


@st.composite
def predicates(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        column = draw(st.sampled_from(sorted(ATOMS)))
        shape = draw(st.sampled_from(["cmp", "cmp", "in", "between", "null", "notnull"]))
        if shape == "cmp":
            parts.append(
                f"{column} {draw(st.sampled_from(['=', '<', '<=', '>', '>=']))} {draw(ATOMS[column])}"
            )
        elif shape == "in":
            parts.append(f"{column} IN ({', '.join(draw(st.lists(ATOMS[column], min_size=1, max_size=3)))})")
        elif shape == "between":
            parts.append(f"{column} BETWEEN {draw(ATOMS[column])} AND {draw(ATOMS[column])}")
        else:
            parts.append(f"{column} IS {'NOT ' if shape == 'notnull' else ''}NULL")
    text = parts[0]
    for part in parts[1:]:
        text = f"({text}) {draw(st.sampled_from(['AND', 'AND', 'OR']))} {part}"
    return text


def test_pruning_after_a_rename_and_a_recreate_never_changes_a_result(lakehouse: Lakehouse) -> None:
    renamed_table(lakehouse)
    pruned_some: list[bool] = []
    examples = 15 if not lakehouse.settings.warehouse.startswith("s3:") else 5

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(p=predicates())
    def check(p: str) -> None:
        got, (planned, total) = read(lakehouse, f"SELECT * FROM {{b.r}} WHERE {p}")
        assert got == pyiceberg_rows(lakehouse, "b.r", p), p
        pruned_some.append(planned < total)

    check()
    assert any(pruned_some)
