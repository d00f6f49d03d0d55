"""Partitioned tables: ``partition_by=`` wherever a table is created, ``overwrite_partitions``, evolution."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from ratatouille.errors import InvalidInput
from ratatouille.sdk import Rat
from ratatouille.tables import describe_spec, normalize_partition_by

from .conftest import data_files, full, head


def events(days: int = 5, per_day: int = 20, start_id: int = 0, tag: str = "a") -> pd.DataFrame:
    rows = days * per_day
    return pd.DataFrame(
        {
            "id": range(start_id, start_id + rows),
            "event_ts": [dt.datetime(2026, 1, 1 + i // per_day, i % 24) for i in range(rows)],
            "user_id": [i % 7 for i in range(rows)],
            "region": [["north", "south"][i % 2] for i in range(rows)],
            "tag": [tag] * rows,
        }
    )


def spec_of(rat: Rat, table: str) -> list[str]:
    t = rat.session.catalog.load_table(table)
    return describe_spec(t.spec(), t.schema())


def test_every_creating_call_takes_partition_by(rat: Rat, tmp_path: Any) -> None:
    rat.ice_ingest_df(events(), "bronze.ev", partition_by=["day(event_ts)", "bucket(4, user_id)"])
    assert spec_of(rat, "bronze.ev") == ["day(event_ts)", "bucket(4, user_id)"]
    rat.transform(
        "SELECT * FROM {bronze.ev}", target="silver.ev", partition_by="month(event_ts), truncate(2, region)"
    )
    assert spec_of(rat, "silver.ev") == ["month(event_ts)", "truncate(2, region)"]
    rat.t("bronze.ev").to_iceberg("silver.by_region", partition_by=["region"])
    assert spec_of(rat, "silver.by_region") == ["region"]
    # Files are split by partition: one day of one bucket never shares a file with another.
    for f in data_files(rat, "bronze.ev"):
        assert f.partition is not None
    assert rat.query("SELECT count() AS n FROM {silver.by_region}")["n"][0] == 100


def test_ingestion_takes_partition_by(local_rat: Rat, tmp_path: Any) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    path = folder / "ev.csv"
    events().to_csv(path, index=False)
    local_rat.ice_ingest(str(path), "bronze.ing", partition_by=["day(event_ts)"])
    assert spec_of(local_rat, "bronze.ing") == ["day(event_ts)"]
    local_rat.ice_ingest_batch(str(folder), "bronze.ing_batch", partition_by="region")
    assert spec_of(local_rat, "bronze.ing_batch") == ["region"]
    assert len(data_files(local_rat, "bronze.ing_batch")) == 2


def test_overwrite_partitions_replaces_only_the_partitions_in_the_result(rat: Rat) -> None:
    rat.ice_ingest_df(events(days=5), "silver.daily", partition_by=["day(event_ts)"])
    before = {f.file_path for f in data_files(rat, "silver.daily")}
    # New rows for days 2 and 3 only.
    new = events(days=5, tag="b")
    new = new[new["event_ts"].dt.day.isin([2, 3])].groupby(new["event_ts"].dt.day).head(4).head(7)
    result = rat.session.write(pa.Table.from_pandas(new, preserve_index=False), "silver.daily",
                               mode="overwrite_partitions")  # fmt: skip
    assert result.files_removed == 2
    counts = rat.query(
        "SELECT toDayOfMonth(event_ts) AS d, tag, count() AS n FROM {silver.daily} GROUP BY d, tag ORDER BY d"
    )
    got = {(int(r.d), r.tag): int(r.n) for r in counts.itertuples()}
    assert got[(1, "a")] == 20 and got[(4, "a")] == 20 and got[(5, "a")] == 20
    assert (2, "a") not in got and (3, "a") not in got
    assert sum(n for (d, t), n in got.items() if t == "b") == 7
    after = {f.file_path for f in data_files(rat, "silver.daily")}
    assert len(before & after) == 3  # the untouched days' files are the same files


def test_overwrite_partitions_with_an_empty_result_replaces_nothing(local_rat: Rat) -> None:
    """A daily job whose query finds no new rows (the docs' `event_ts >= yesterday()` on old data)."""
    local_rat.ice_ingest_df(events(days=3), "gold.empty_days", partition_by=["day(event_ts)"])
    before = {f.file_path for f in data_files(local_rat, "gold.empty_days")}
    result = local_rat.transform(
        "SELECT * FROM {gold.empty_days} WHERE event_ts >= yesterday()",
        target="gold.empty_days",
        mode="overwrite_partitions",
    )
    assert result["rows"] == 0 and result["files_removed"] == 0
    assert {f.file_path for f in data_files(local_rat, "gold.empty_days")} == before
    assert int(local_rat.query("SELECT count() AS n FROM {gold.empty_days}").n[0]) == 60


def test_overwrite_partitions_through_transform_and_magic_options(local_rat: Rat) -> None:
    local_rat.ice_ingest_df(events(days=3), "bronze.src")
    local_rat.transform("SELECT * FROM {bronze.src}", target="gold.daily", partition_by=["day(event_ts)"])
    local_rat.transform(
        "SELECT * REPLACE ('c' AS tag) FROM {bronze.src} WHERE toDayOfMonth(event_ts) = 2",
        target="gold.daily",
        mode="overwrite_partitions",
    )
    tags = local_rat.query("SELECT tag, count() AS n FROM {gold.daily} GROUP BY tag ORDER BY tag")
    assert tags.to_dict("records") == [{"tag": "a", "n": 40}, {"tag": "c", "n": 20}]


def test_partition_evolution_is_explicit(rat: Rat) -> None:
    rat.ice_ingest_df(events(days=2), "silver.evo", partition_by=["day(event_ts)"])
    snapshot = head(rat, "silver.evo")
    with pytest.raises(InvalidInput, match=r"partitioned by day\(event_ts\).*ice_partition"):
        rat.ice_ingest_df(events(days=1), "silver.evo", partition_by=["month(event_ts)"])
    assert head(rat, "silver.evo") == snapshot
    assert rat.ice_partition("silver.evo", ["month(event_ts)"]) == ["month(event_ts)"]
    rat.ice_ingest_df(events(days=1, start_id=1000), "silver.evo", partition_by=["month(event_ts)"])
    assert rat.query("SELECT count() AS n FROM {silver.evo}")["n"][0] == 60
    specs = {f.spec_id for f in data_files(rat, "silver.evo")}
    assert len(specs) == 2  # old files keep their spec: nothing was rewritten


@pytest.mark.parametrize(
    ("partition_by", "message"),
    [
        (["week(event_ts)"], "unknown partition transform"),
        (["day(nope)"], "no column 'nope'"),
        (["day(region)"], "does not apply to column 'region'"),
        (["bucket(0, id)"], "positive width"),
        (["day(event_ts)", "day(event_ts)"], "given twice"),
        ([], "partition_by is empty"),
        ([3], "list of terms"),
    ],
)
def test_bad_partition_by_is_one_clear_error_and_creates_nothing(
    rat: Rat, partition_by: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        rat.ice_ingest_df(events(days=1), "bronze.bad", partition_by=partition_by)
    assert "bad" not in rat.ice_tables("bronze")


def test_overwrite_partitions_needs_a_partitioned_table(rat: Rat) -> None:
    rat.ice_ingest_df(events(days=1), "bronze.flat")
    snapshot, rows = head(rat, "bronze.flat"), full(rat, "bronze.flat")
    with pytest.raises(InvalidInput, match="needs a partitioned table"):
        rat.ice_ingest_df(events(days=1), "bronze.flat", mode="overwrite_partitions")
    with pytest.raises(InvalidInput, match="needs a partitioned table"):
        rat.ice_ingest_df(events(days=1), "bronze.new_flat", mode="overwrite_partitions")
    assert head(rat, "bronze.flat") == snapshot and full(rat, "bronze.flat").equals(rows)
    assert "new_flat" not in rat.ice_tables("bronze")


def test_partition_terms_parse_like_sql() -> None:
    assert normalize_partition_by("day(ts), bucket(16, user_id)") == ["day(ts)", "bucket(16, user_id)"]
    assert normalize_partition_by(["region"]) == ["region"]
    assert normalize_partition_by(None) is None
