"""The seed documentation's quick start runs as written, on a generated ``landing/data.xlsx``."""

from __future__ import annotations

from ibis import _

from ratatouille.sdk import Rat

from .conftest import Landing, xlsx


def test_seed_quick_start(rat: Rat, landing: Landing) -> None:
    rows = [["id", "name", "price", "qty"]] + [[i, f"item {i}", 2.5 * i, i % 4] for i in range(1, 11)]
    landing.put("data.xlsx", xlsx({"Sheet1": rows}))

    # Ingest a file to bronze layer
    df, rows_written = rat.ice_ingest("landing/data.xlsx", "bronze.my_table")
    assert rows_written == 10 and len(df) == 10

    # Transform with SQL
    rat.transform(
        sql="SELECT *, price * qty AS total FROM {bronze.my_table}",
        target="silver.my_table",
        merge_keys=["id"],
    )

    # Or transform with Python (Ibis) - same performance!
    (
        rat.t("bronze.my_table")
        .filter(_.qty > 0)
        .mutate(total=_.price * _.qty)
        .to_iceberg("silver.my_table", merge_keys=["id"])
    )

    # Read the result
    df = rat.df("{silver.my_table}")
    assert len(df) == 10
    assert df.sort_values("id")["total"].tolist()[:3] == [2.5, 10.0, 22.5]
    assert {"_source_file", "_ingested_at"} <= set(df.columns)
    assert set(df["_source_file"]) == {"landing/data.xlsx"}
