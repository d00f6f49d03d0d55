"""Behaviour of the lakehouse on every setup (SQLite + local files, Postgres + S3)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from ratatouille.errors import EngineError, InvalidInput, NotFound
from ratatouille.session import Lakehouse
from tests.helpers import arrow, head, rows, sorted_df


def seed(lh: Lakehouse, table: str = "bronze.sales") -> None:
    lh.write(arrow(id=[1, 2, 3], price=[10.0, 5.5, 2.0], qty=[1, 0, 4], region=["EU", "US", "EU"]), table)


def test_write_creates_namespace_and_table(lakehouse: Lakehouse) -> None:
    result = lakehouse.write(arrow(id=[1, 2], name=["a", "b"]), "bronze.people")
    assert result.created and result.rows == 2 and result.branch == "main"
    assert rows(lakehouse, "SELECT * FROM {bronze.people} ORDER BY id") == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b"},
    ]


def test_append_overwrite_and_history(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    first = head(lakehouse, "bronze.sales")
    lakehouse.write(arrow(id=[4], price=[1.0], qty=[1], region=["US"]), "bronze.sales", mode="append")
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales}") == [{"n": 4}]
    lakehouse.write(arrow(id=[9], price=[9.0], qty=[9], region=["EU"]), "bronze.sales", mode="overwrite")
    assert rows(lakehouse, "SELECT id FROM {bronze.sales}") == [{"id": 9}]
    # overwrite is a new snapshot: history and time travel survive
    assert rows(lakehouse, f"SELECT count() AS n FROM {{bronze.sales@{first}}}") == [{"n": 3}]
    snaps = lakehouse.catalog.load_table("bronze.sales").metadata.snapshots
    assert len(snaps) == 3  # one snapshot per write, even for overwrite


def test_reads_are_never_stale(lakehouse: Lakehouse) -> None:
    """After overwrite, delete and merge the engine reads exactly the new snapshot."""
    seed(lakehouse)
    assert rows(lakehouse, "SELECT sum(qty) AS s FROM {bronze.sales}") == [{"s": 5}]
    lakehouse.write(arrow(id=[1, 2], price=[1.0, 1.0], qty=[7, 7], region=["EU", "EU"]), "bronze.sales",
                    mode="overwrite")  # fmt: skip
    assert rows(lakehouse, "SELECT sum(qty) AS s FROM {bronze.sales}") == [{"s": 14}]
    table = lakehouse.catalog.load_table("bronze.sales")
    table.delete("id == 1")  # a delete by another writer (pyiceberg directly)
    assert rows(lakehouse, "SELECT id FROM {bronze.sales}") == [{"id": 2}]
    lakehouse.write(arrow(id=[2, 3], price=[2.0, 3.0], qty=[1, 1], region=["US", "US"]), "bronze.sales",
                    mode="merge", merge_keys=["id"])  # fmt: skip
    assert rows(lakehouse, "SELECT id, qty FROM {bronze.sales} ORDER BY id") == [
        {"id": 2, "qty": 1},
        {"id": 3, "qty": 1},
    ]


def test_merge_counts_are_measured(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    result = lakehouse.write(
        arrow(id=[3, 4, 5], price=[3.0, 4.0, 5.0], qty=[3, 4, 5], region=["EU", "US", "US"]),
        "bronze.sales",
        mode="merge",
        merge_keys="id",
    )
    assert (result.inserted, result.updated) == (2, 1)
    df = sorted_df(lakehouse, "bronze.sales")
    assert df.id.tolist() == [1, 2, 3, 4, 5]
    assert df.qty.tolist() == [1, 0, 3, 4, 5]


def test_merge_keeps_columns_the_batch_lacks(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    lakehouse.write(arrow(id=[1, 7], qty=[100, 700]), "bronze.sales", mode="merge", merge_keys=["id"])
    df = sorted_df(lakehouse, "bronze.sales")
    assert df.set_index("id").loc[1, "region"] == "EU"  # updated row keeps its other columns
    assert df.set_index("id").loc[1, "qty"] == 100
    assert pd.isna(df.set_index("id").loc[7, "region"])  # a new row has NULL there


def test_merge_with_composite_key_and_null_keys_in_target(lakehouse: Lakehouse) -> None:
    lakehouse.write(arrow(a=[1, 1, None], b=["x", "y", "z"], v=[1, 2, 3]), "silver.kv")
    result = lakehouse.write(arrow(a=[1, 2], b=["y", "y"], v=[20, 30]), "silver.kv", mode="merge",
                             merge_keys=["a", "b"])  # fmt: skip
    assert (result.inserted, result.updated) == (1, 1)
    got = rows(lakehouse, "SELECT a, b, v FROM {silver.kv} ORDER BY a NULLS FIRST, b")
    assert got == [
        {"a": None, "b": "z", "v": 3},  # a target row with a NULL key survives
        {"a": 1, "b": "x", "v": 1},
        {"a": 1, "b": "y", "v": 20},
        {"a": 2, "b": "y", "v": 30},
    ]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (arrow(id=[1, None], qty=[1, 2]), "NULL"),
        (arrow(id=[5, 5], qty=[1, 2]), "more than once"),
        (arrow(other=[1], qty=[1]), "not in the data"),
        (arrow(id=["x"], qty=[1]), "column 'id'"),
    ],
)
def test_bad_merge_changes_nothing(lakehouse: Lakehouse, batch: pa.Table, message: str) -> None:
    seed(lakehouse)
    before = head(lakehouse, "bronze.sales")
    with pytest.raises(InvalidInput, match=message):
        lakehouse.write(batch, "bronze.sales", mode="merge", merge_keys=["id"])
    assert head(lakehouse, "bronze.sales") == before


def test_schema_evolution_adds_columns_and_promotes(lakehouse: Lakehouse) -> None:
    lakehouse.write(pa.table({"id": pa.array([1], pa.int32()), "x": pa.array([1.0], pa.float32())}), "b.t")
    lakehouse.write(pa.table({"id": pa.array([2], pa.int64()), "x": [2.5], "note": ["new"]}), "b.t")
    schema = lakehouse.catalog.load_table("b.t").schema()
    assert [(f.name, str(f.field_type)) for f in schema.fields] == [
        ("id", "long"),
        ("x", "double"),
        ("note", "string"),
    ]
    assert rows(lakehouse, "SELECT id, note FROM {b.t} ORDER BY id") == [
        {"id": 1, "note": None},
        {"id": 2, "note": "new"},
    ]


def test_incompatible_type_is_refused_by_name(lakehouse: Lakehouse) -> None:
    lakehouse.write(arrow(id=[1], amount=[1.5]), "b.t")
    before = head(lakehouse, "b.t")
    with pytest.raises(InvalidInput, match=r"column 'amount' .* double .* string .*'abc'"):
        lakehouse.write(arrow(id=[2], amount=["abc"]), "b.t")
    assert head(lakehouse, "b.t") == before
    assert [f.name for f in lakehouse.catalog.load_table("b.t").schema().fields] == ["id", "amount"]


def test_timestamps_round_trip(lakehouse: Lakehouse) -> None:
    naive = pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)], pa.timestamp("us"))
    aware = pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC"))
    lakehouse.write(
        pa.table({"id": [1], "n": naive, "a": aware, "d": pa.array([dt.date(2024, 5, 6)])}), "b.ts"
    )
    out = lakehouse.query_arrow("SELECT n, a, d, toDateTime('2024-01-01 00:00:00', 'UTC') AS dt FROM {b.ts}")
    assert out.schema.field("n").type == pa.timestamp("us")
    assert out.schema.field("a").type.tz in ("UTC", "Etc/UTC")
    assert pa.types.is_timestamp(out.schema.field("dt").type)  # DateTime is never a uint32
    # a transform keeps naive timestamps naive
    lakehouse.transform("SELECT * FROM {b.ts}", "s.ts")
    fields = {f.name: str(f.field_type) for f in lakehouse.catalog.load_table("s.ts").schema().fields}
    assert fields["n"] == "timestamp" and fields["a"] == "timestamptz" and fields["d"] == "date"


def test_refs_and_time_travel(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    table = lakehouse.catalog.load_table("bronze.sales")
    first = head(lakehouse, "bronze.sales")
    assert first is not None
    table.manage_snapshots().create_tag(first, "v1").commit()
    lakehouse.write(arrow(id=[4], price=[1.0], qty=[1], region=["US"]), "bronze.sales")
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales@v1}") == [{"n": 3}]
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales}") == [{"n": 4}]
    # a join of two snapshots of the same table pins each side
    joined = rows(
        lakehouse, "SELECT count() AS n FROM {bronze.sales} a JOIN {bronze.sales@v1} b ON a.id = b.id"
    )
    assert joined == [{"n": 3}]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert rows(lakehouse, f"SELECT count() AS n FROM {{bronze.sales@{future}}}") == [{"n": 4}]
    with pytest.raises(NotFound, match="at or before"):
        lakehouse.query_arrow("SELECT 1 FROM {bronze.sales@2001-01-01}")
    with pytest.raises(NotFound, match="no branch or tag 'nope'"):
        lakehouse.query_arrow("SELECT 1 FROM {bronze.sales@nope}")
    with pytest.raises(NotFound, match="no snapshot 42"):
        lakehouse.query_arrow("SELECT 1 FROM {bronze.sales@42}")


def test_branch_reads_and_writes(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    main_head = head(lakehouse, "bronze.sales")
    lakehouse.use_branch("dev")
    lakehouse.write(arrow(id=[4], price=[1.0], qty=[1], region=["US"]), "bronze.sales")
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales}") == [{"n": 4}]
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales@main}") == [{"n": 3}]
    assert head(lakehouse, "bronze.sales") == main_head  # main untouched
    lakehouse.use_branch(None)
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales}") == [{"n": 3}]
    assert rows(lakehouse, "SELECT count() AS n FROM {bronze.sales@dev}") == [{"n": 4}]


def test_unknown_table_lists_near_matches(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    with pytest.raises(NotFound, match=r"bronze\.sale does not exist; did you mean bronze\.sales"):
        lakehouse.query_arrow("SELECT * FROM {bronze.sale}")


def test_malformed_sql_is_one_clear_error(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    before = head(lakehouse, "bronze.sales")
    with pytest.raises(EngineError) as info:
        lakehouse.transform("SELECT id,\n  nosuch\nFROM {bronze.sales}", "bronze.sales")
    assert "nosuch" in str(info.value) and info.value.line == 2
    assert "file(" not in str(info.value)  # the expanded SQL does not leak into the message
    with pytest.raises(EngineError) as info:
        lakehouse.query_arrow("SELECT 1\nFROM {bronze.sales}\nWHER id = 1")
    assert info.value.line == 3
    assert head(lakehouse, "bronze.sales") == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "upsert"}, "unknown mode"),
        ({"mode": "merge"}, "needs merge_keys"),
        ({"mode": "append", "merge_keys": ["id"]}, "only apply"),
    ],
)
def test_bad_write_options(lakehouse: Lakehouse, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        lakehouse.write(arrow(id=[1]), "bronze.x", **kwargs)  # type: ignore[arg-type]
    assert (
        "x" not in [t[-1] for t in lakehouse.catalog.list_tables("bronze")]
        if lakehouse.catalog.list_namespaces()
        else True
    )


@pytest.mark.parametrize("target", ["sales", "bronze.sales@dev", "a.b.c", "temp.x"])
def test_bad_targets(lakehouse: Lakehouse, target: str) -> None:
    with pytest.raises(InvalidInput):
        lakehouse.write(arrow(id=[1]), target)


def test_failed_first_write_leaves_no_table(lakehouse: Lakehouse) -> None:
    with pytest.raises(InvalidInput):
        lakehouse.write(pa.table({"id": pa.array([2**63 + 1], pa.uint64())}), "bronze.huge")
    assert not lakehouse.catalog.table_exists("bronze.huge")


def test_preview_holds_no_secret(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    sql = lakehouse.preview("SELECT * FROM {bronze.sales}")
    secret = lakehouse.settings.s3_secret_access_key
    if secret:
        assert secret not in sql and lakehouse.settings.s3_access_key_id not in sql
    assert "{bronze.sales}" not in sql


def test_temp_tables(lakehouse: Lakehouse) -> None:
    seed(lakehouse)
    lakehouse.temp_create("regions", arrow(region=["EU", "US"], name=["Europe", "States"]))
    got = rows(lakehouse, "SELECT t.name, count() AS n FROM {bronze.sales} s JOIN {temp.regions} t "
                          "ON s.region = t.region GROUP BY t.name ORDER BY t.name")  # fmt: skip
    assert got == [{"name": "Europe", "n": 2}, {"name": "States", "n": 1}]
    assert lakehouse.temp_names() == ["regions"]
    lakehouse.temp_drop("regions")
    with pytest.raises(NotFound, match="no temp table"):
        lakehouse.query_arrow("SELECT * FROM {temp.regions}")
