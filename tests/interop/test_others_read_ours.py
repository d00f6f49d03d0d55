"""Tables written by ratatouille read the same in pyiceberg and in iceberg-rust as in ratatouille.

Each write path (append, overwrite, overwrite_partitions, merge, delete, partitioned tables, schema and
spec evolution, a dev branch) builds a table through ``rat``; its ``SELECT *`` is then compared with
pyiceberg's scan and with iceberg-rust's (pyiceberg-core's DataFusion table provider) of the same snapshot.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pyiceberg.catalog import Catalog

from ratatouille import Rat
from tests.interop.outcomes import check
from tests.interop.support import assert_same, chdb_table, pyiceberg_read, rat_read, rust_read


def same_everywhere(rat: Rat, ref: str, scratch: Path) -> pa.Table:
    """ratatouille's read of ``ref`` equals pyiceberg's and iceberg-rust's of the same snapshot."""
    resolved = rat.session.resolve(ref)
    table, snapshot_id = resolved.table, resolved.snapshot_id
    assert snapshot_id is not None
    assert table.metadata.format_version == 2
    ours = rat_read(rat, ref)
    assert_same(pyiceberg_read(table, snapshot_id), ours, who="pyiceberg")
    assert_same(rust_read(table, snapshot_id, scratch), ours, who="iceberg-rust")
    return ours


def sales(ids: list[int], region: str = "eu", day: int = 1, qty: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ids,
            "region": [region] * len(ids),
            "ts": [dt.datetime(2024, 1, day, 8) + dt.timedelta(hours=i) for i in ids],
            "qty": [qty * i for i in ids],
        }
    )


@check("w_append")
def test_append(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2, 3]), "bronze.appended")
    rat.ice_ingest_df(sales([4, 5], "us", 2), "bronze.appended")
    assert same_everywhere(rat, "bronze.appended", tmp_path).num_rows == 5


@check("w_overwrite")
def test_overwrite(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2, 3]), "bronze.replaced")
    rat.ice_ingest_df(sales([7, 8], "us"), "bronze.replaced", mode="overwrite")
    assert same_everywhere(rat, "bronze.replaced", tmp_path).num_rows == 2


@check("w_overwrite_partitions")
def test_overwrite_partitions(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2]), "bronze.regions", partition_by=["region"])
    rat.ice_ingest_df(sales([3, 4], "us"), "bronze.regions")
    rat.ice_ingest_df(sales([5], "eu", qty=9), "bronze.regions", mode="overwrite_partitions")
    ours = same_everywhere(rat, "bronze.regions", tmp_path)
    assert sorted(ours.column("id").to_pylist()) == [3, 4, 5]


@check("w_merge")
def test_merge(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2, 3]), "bronze.merged")
    result = rat.ice_merge(sales([2, 3, 4], qty=10), "bronze.merged", merge_keys=["id"])
    assert result == {"inserted": 1, "updated": 2}
    assert same_everywhere(rat, "bronze.merged", tmp_path).num_rows == 4


@check("w_delete")
def test_delete(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2, 3]), "bronze.trimmed")
    rat.ice_ingest_df(sales([4, 5, 6], "us"), "bronze.trimmed")
    assert rat.ice_delete("bronze.trimmed", "id IN (2, 5)")["deleted"] == 2
    assert same_everywhere(rat, "bronze.trimmed", tmp_path).num_rows == 4


@check("w_partitioned")
def test_partitioned(rat: Rat, tmp_path: Path) -> None:
    terms = ["day(ts)", "bucket(4, id)", "region"]
    rat.ice_ingest_df(sales([1, 2, 3, 4], day=1), "bronze.parts", partition_by=terms)
    rat.ice_ingest_df(sales([5, 6], "us", day=2), "bronze.parts")
    assert same_everywhere(rat, "bronze.parts", tmp_path).num_rows == 6


@check("w_new_column")
def test_new_column(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2]), "bronze.widened")
    rat.ice_ingest_df(sales([3]).assign(note="late"), "bronze.widened")
    ours = same_everywhere(rat, "bronze.widened", tmp_path)
    assert ours.column_names[-1] == "note"


@check("w_promotion")
def test_promotion(rat: Rat, catalog: Catalog, tmp_path: Path) -> None:
    small = pa.table({"id": pa.array([1, 2], pa.int32()), "v": pa.array([1.5, 2.5], pa.float32())})
    rat.ice_ingest_df(small, "bronze.promoted")
    big = pa.table({"id": pa.array([2**40], pa.int64()), "v": pa.array([0.1], pa.float64())})
    rat.ice_ingest_df(big, "bronze.promoted")
    fields = catalog.load_table("bronze.promoted").schema().fields
    assert [str(f.field_type) for f in fields] == ["long", "double"]
    assert same_everywhere(rat, "bronze.promoted", tmp_path).num_rows == 3


@check("w_spec_evolution")
def test_spec_evolution(rat: Rat, catalog: Catalog, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2]), "bronze.respec", partition_by=["region"])
    rat.ice_partition("bronze.respec", ["day(ts)"])
    rat.ice_ingest_df(sales([3, 4], "us", day=3), "bronze.respec")
    assert len(catalog.load_table("bronze.respec").metadata.partition_specs) == 2
    assert same_everywhere(rat, "bronze.respec", tmp_path).num_rows == 4


@check("w_branch")
def test_dev_branch(rat: Rat, tmp_path: Path) -> None:
    rat.ice_ingest_df(sales([1, 2, 3]), "bronze.orders")
    rat.dev_start("dev")
    rat.ice_ingest_df(sales([4], "us"), "bronze.orders")
    rat.ice_merge(sales([1], qty=50), "bronze.orders", merge_keys=["id"])
    rat.transform("SELECT region, sum(qty) AS qty FROM {bronze.orders} GROUP BY region", "gold.by_region")
    assert same_everywhere(rat, "bronze.orders@dev", tmp_path).num_rows == 4
    assert same_everywhere(rat, "gold.by_region@dev", tmp_path).num_rows == 2
    assert same_everywhere(rat, "bronze.orders@main", tmp_path).num_rows == 3
    rat.dev_merge()
    rat.dev(None)
    assert same_everywhere(rat, "bronze.orders", tmp_path).num_rows == 4
    assert same_everywhere(rat, "gold.by_region", tmp_path).num_rows == 2


@check("w_v2")
def test_format_v2(rat: Rat, catalog: Catalog) -> None:
    rat.ice_ingest_df(sales([1]), "bronze.versioned")
    assert catalog.load_table("bronze.versioned").metadata.format_version == 2


@check("w_v3")
def test_append_to_v3(rat: Rat, catalog: Catalog, tmp_path: Path) -> None:
    metadata = chdb_table(
        tmp_path / "chdb_v3",
        "id Int64, v Nullable(String)",
        ["INSERT INTO t VALUES (1, 'a')"],
        format_version=3,
    )
    catalog.register_table("bronze.v3", metadata)
    rat.ice_ingest_df(pd.DataFrame({"id": [2], "v": ["b"]}), "bronze.v3")
    table = catalog.load_table("bronze.v3")
    ours = rat_read(rat, "bronze.v3")
    assert_same(pyiceberg_read(table), ours, who="pyiceberg")
    assert_same(rust_read(table), ours, who="iceberg-rust")
