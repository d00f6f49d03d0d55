"""Merges and deletes rewrite only the files holding affected rows, and equal a model of the whole table."""

from __future__ import annotations

import datetime as dt
import itertools
import os

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratatouille.errors import InvalidInput
from ratatouille.sdk import Rat

from .conftest import data_files, head

EXAMPLES = int(os.environ.get("RAT_TEST_MERGE_EXAMPLES", "12"))


def table_rows(rat: Rat, table: str) -> pd.DataFrame:
    df = rat.session.catalog.load_table(table).scan().to_pandas()
    return df.sort_values("id").reset_index(drop=True)


def seed(rat: Rat, table: str, files: int = 4, per_file: int = 50) -> None:
    """``files`` appends of consecutive ids (each its own file), sorted by id."""
    for i in range(files):
        ids = range(i * per_file, (i + 1) * per_file)
        rat.ice_ingest_df(
            pd.DataFrame({"id": ids, "v": [f"v{n}" for n in ids], "w": [float(n) for n in ids]}), table
        )


def test_a_merge_of_recent_keys_rewrites_only_the_last_file(rat: Rat) -> None:
    seed(rat, "silver.m")
    before = {f.file_path for f in data_files(rat, "silver.m")}
    batch = pd.DataFrame({"id": [190, 199, 500], "v": ["a", "b", "c"], "w": [1.0, 2.0, 3.0]})
    result = rat.session.write(pa.Table.from_pandas(batch), "silver.m", mode="merge", merge_keys=["id"])
    assert (result.inserted, result.updated, result.files_removed) == (1, 2, 1)
    after = {f.file_path for f in data_files(rat, "silver.m")}
    assert len(before & after) == 3
    df = table_rows(rat, "silver.m")
    assert len(df) == 201
    assert df.set_index("id").loc[[190, 199, 500], "v"].tolist() == ["a", "b", "c"]


def test_a_merge_keeps_columns_the_batch_lacks_and_untouched_rows_bit_identical(local_rat: Rat) -> None:
    rat = local_rat
    data = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "tags": pa.array([["x"], None, [], ["y", None]], pa.list_(pa.string())),
            "attrs": pa.array([{"a": 1}, None, {"a": None}, {"a": 4}], pa.struct([("a", pa.int64())])),
            "m": pa.array([[("k", 1)], None, [], [("z", 2)]], pa.map_(pa.string(), pa.int64())),
            "d": pa.array([dt.date(1, 1, 1), dt.date(2300, 5, 5), None, dt.date(1970, 1, 1)], pa.date32()),
            "v": ["a", "b", "c", "d"],
        }
    )
    rat.session.write(data, "silver.nested")
    batch = pa.table({"id": pa.array([2, 9], pa.int64()), "v": ["B", "new"]})
    result = rat.session.write(batch, "silver.nested", mode="merge", merge_keys=["id"])
    assert (result.inserted, result.updated) == (1, 1)
    got = rat.session.catalog.load_table("silver.nested").scan().to_arrow().sort_by("id")
    assert got.column("v").to_pylist() == ["a", "B", "c", "d", "new"]
    # Row 2 kept its (NULL) nested values; the untouched rows are exactly as written.
    want = data.sort_by("id")
    for column in ("tags", "attrs", "m", "d"):
        assert got.column(column).to_pylist()[:4] == want.column(column).to_pylist(), column
        assert got.column(column).to_pylist()[4] is None


@st.composite
def batches(draw: st.DrawFn) -> list[pd.DataFrame]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        ids = draw(st.lists(st.integers(0, 400), min_size=1, max_size=30, unique=True))
        values = draw(
            st.lists(st.one_of(st.none(), st.text(max_size=3)), min_size=len(ids), max_size=len(ids))
        )
        out.append(pd.DataFrame({"id": ids, "v": values}))
    return out


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(batches=batches())
def test_file_level_merges_equal_a_whole_table_model(rat: Rat, batches: list[pd.DataFrame]) -> None:
    table = f"silver.model_{next(_COUNTER)}"  # one lakehouse per setup, a new table per example
    seed(rat, table, files=4, per_file=50)
    model = table_rows(rat, table)[["id", "v"]].set_index("id")["v"].to_dict()
    for b in batches:
        result = rat.ice_merge(b, table, merge_keys=["id"])
        updated = sum(1 for k in b["id"] if k in model)
        assert result == {"inserted": len(b) - updated, "updated": updated}
        model.update(dict(zip(b["id"], b["v"], strict=True)))
    got = table_rows(rat, table)
    assert got["id"].tolist() == sorted(model)

    def plain(v: object) -> object:
        return None if v is None or (isinstance(v, float) and pd.isna(v)) else v

    assert [plain(v) for v in got["v"]] == [plain(model[k]) for k in sorted(model)]
    # Columns the batches lack keep their values for updated rows.
    assert got["w"].notna().sum() == 200


_COUNTER = itertools.count()


def test_delete_rewrites_only_files_with_matching_rows(rat: Rat) -> None:
    seed(rat, "silver.d")
    before = {f.file_path for f in data_files(rat, "silver.d")}
    assert rat.ice_delete("silver.d", "id IN (3, 160) OR v = 'v199'")["deleted"] == 3
    after = {f.file_path for f in data_files(rat, "silver.d")}
    assert len(before & after) == 2
    ids = table_rows(rat, "silver.d")["id"].tolist()
    assert len(ids) == 197 and not {3, 160, 199} & set(ids)
    # A whole file matching goes without a rewrite; nothing matching commits nothing.
    snapshot = head(rat, "silver.d")
    assert rat.ice_delete("silver.d", "id > 10000")["deleted"] == 0
    assert head(rat, "silver.d") == snapshot
    # The kept rows of the two rewritten files went into one new file; a file matching whole is dropped.
    assert len(data_files(rat, "silver.d")) == 3
    assert rat.ice_delete("silver.d", "id >= 50 AND id < 100")["deleted"] == 50
    assert len(data_files(rat, "silver.d")) == 2


def test_delete_treats_null_as_no_match(local_rat: Rat) -> None:
    local_rat.ice_ingest_df(pd.DataFrame({"id": [1, 2, 3], "v": ["a", None, "c"]}), "silver.dn")
    assert local_rat.ice_delete("silver.dn", "v != 'a'")["deleted"] == 1
    assert table_rows(local_rat, "silver.dn")["id"].tolist() == [1, 2]


def test_delete_on_a_table_with_a_column_named_n(local_rat: Rat) -> None:
    # The predicate's check once aliased its count as "n", which shadowed such a column.
    local_rat.ice_ingest_df(pd.DataFrame({"id": [1, 2, 3], "n": [10, 20, 30]}), "silver.dn2")
    assert local_rat.ice_delete("silver.dn2", "n > 15")["deleted"] == 2
    assert table_rows(local_rat, "silver.dn2")["id"].tolist() == [1]


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("nope = 1", "does not work on silver.bad"),
        ("id IN (1,", "does not work on silver.bad"),
        ("", "needs a predicate"),
        ("id IN (SELECT id FROM {bronze.x})", "no table references"),
        ("1; DROP TABLE x", "no table references"),
    ],
)
def test_bad_delete_predicates_are_one_clear_error(rat: Rat, predicate: str, message: str) -> None:
    seed(rat, "silver.bad", files=1)
    snapshot = head(rat, "silver.bad")
    with pytest.raises(InvalidInput, match=message):
        rat.ice_delete("silver.bad", predicate)
    assert head(rat, "silver.bad") == snapshot


def test_delete_on_a_dev_branch_leaves_main_alone(local_rat: Rat) -> None:
    seed(local_rat, "silver.br", files=2)
    main = head(local_rat, "silver.br")
    local_rat.dev_start("cleanup")
    assert local_rat.ice_delete("silver.br", "id < 10")["deleted"] == 10
    assert local_rat.query("SELECT count() AS n FROM {silver.br}")["n"][0] == 90
    local_rat.dev(None)
    assert head(local_rat, "silver.br") == main
    assert local_rat.query("SELECT count() AS n FROM {silver.br}")["n"][0] == 100


def test_the_files_a_write_carries_equal_a_fresh_plan(rat: Rat) -> None:
    from ratatouille.tables.datafiles import SNAPSHOT_FILES, snapshot_files

    seed(rat, "silver.carry", files=3)
    rat.ice_merge(pd.DataFrame({"id": [149, 500], "v": ["a", "b"], "w": [1.0, 2.0]}), "silver.carry", ["id"])
    rat.ice_delete("silver.carry", "id < 5")
    rat.ice_ingest_df(pd.DataFrame({"id": [900], "v": ["c"], "w": [3.0]}), "silver.carry")
    table = rat.session.catalog.load_table("silver.carry")
    snapshot = head(rat, "silver.carry")
    assert snapshot is not None
    carried = sorted(f.file_path for f in snapshot_files(table, snapshot))
    SNAPSHOT_FILES.clear()
    assert sorted(f.file_path for f in snapshot_files(table, snapshot)) == carried
    assert rat.query("SELECT count() AS n FROM {silver.carry}")["n"][0] == 147
