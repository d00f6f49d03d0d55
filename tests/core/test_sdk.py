"""The `rat` SDK contract, on every setup."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from ibis import _

from ratatouille import Rat
from ratatouille.errors import EngineError, InvalidInput, NotFound
from ratatouille.session import Lakehouse


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Iterator[Rat]:
    yield Rat(lakehouse)


def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [1, 2, 3], "price": [10.0, 5.5, 2.0], "qty": [1, 0, 4], "region": ["EU", "US", "EU"]}
    )


def test_seed_quick_start_dataframe_form(rat: Rat) -> None:
    """The original documentation's quick start, with a DataFrame in place of the Excel file."""
    rows = rat.ice_ingest_df(sales(), "bronze.my_table")
    assert rows == 3
    result = rat.transform(
        sql="SELECT *, price * qty AS total FROM {bronze.my_table}",
        target="silver.my_table",
        merge_keys=["id"],
    )
    assert result["mode"] == "merge" and result["inserted"] == 3 and result["target"] == "silver.my_table"
    assert result["branch"] == "main"
    out = (
        rat.t("bronze.my_table")
        .filter(_.qty > 0)
        .mutate(total=_.price * _.qty)
        .to_iceberg("silver.my_table", merge_keys=["id"])
    )
    assert (out["inserted"], out["updated"]) == (0, 2)
    df = rat.df("{silver.my_table}")
    assert sorted(df.id) == [1, 2, 3]
    assert df.set_index("id").loc[3, "total"] == 8.0


def test_reading_forms(rat: Rat) -> None:
    rat.ice_ingest_df(sales(), "bronze.s")
    assert len(rat.df("bronze.s")) == 3
    assert len(rat.df("{bronze.s}")) == 3
    assert rat.df("SELECT count() AS n FROM {bronze.s}").n[0] == 3
    assert rat.query("SELECT max(price) AS m FROM {bronze.s}").m[0] == 10.0
    assert len(rat.ice_read("bronze.s")) == 3
    assert "{bronze.s}" not in rat.transform_preview("SELECT * FROM {bronze.s}")
    with pytest.raises(EngineError, match="Syntax error: the query ends too early"):
        rat.df("not a table")  # not a table name, so SQL: and not valid SQL
    with pytest.raises(NotFound):
        rat.df("bronze.nope")


def test_transform_modes(rat: Rat) -> None:
    rat.ice_ingest_df(sales(), "bronze.s")
    assert rat.transform("SELECT * FROM {bronze.s}", "silver.s")["rows"] == 3  # overwrite by default
    assert rat.transform("SELECT * FROM {bronze.s}", "silver.s")["rows"] == 3
    assert len(rat.df("silver.s")) == 3
    assert rat.transform("SELECT * FROM {bronze.s}", "silver.s", mode="append")["mode"] == "append"
    assert len(rat.df("silver.s")) == 6
    assert rat.ice_merge(sales().assign(qty=9), "bronze.s", ["id"]) == {"inserted": 0, "updated": 3}
    assert set(rat.df("bronze.s").qty) == {9}


def test_ibis(rat: Rat) -> None:
    rat.ice_ingest_df(sales(), "bronze.s")
    t = rat.t("bronze.s")
    by_region = t.group_by("region").aggregate(revenue=(_.price * _.qty).sum()).order_by("region")
    assert by_region.execute().to_dict("list") == {"region": ["EU", "US"], "revenue": [18.0, 0.0]}
    assert "{bronze.s}" in by_region.sql()
    assert len(t.preview(2)) == 2
    joined = t.join(rat.t("bronze.s").select("id", other=_.price), "id")
    assert len(joined.to_pandas()) == 3
    result = rat.to_iceberg(t.filter(_.region == "EU"), "gold.eu")
    assert result["rows"] == 2 and result["mode"] == "overwrite"


def test_catalog_calls(rat: Rat) -> None:
    rat.ice_ingest_df(sales(), "bronze.a")
    rat.ice_ingest_df(sales(), "silver.b")
    assert rat.ice_namespaces() == ["bronze", "silver"]
    assert rat.ice_tables("bronze") == ["a"]
    assert rat.ice_tables() == ["a"]
    assert rat.ice_tables("gold") == []
    assert rat.ice_all() == {"bronze": ["a"], "silver": ["b"]}
    assert "bronze" in rat.ice_location("bronze.a")
    rat.ice_drop("silver.b")
    assert rat.ice_all() == {"bronze": ["a"], "silver": []}
    with pytest.raises(NotFound):
        rat.ice_drop("silver.b")


def test_history_and_time_travel(rat: Rat) -> None:
    rat.session.context["notebook"] = "analysis.ipynb"
    rat.ice_ingest_df(sales(), "bronze.s")
    rat.ice_merge(sales().assign(qty=0), "bronze.s", ["id"])
    history = rat.ice_history("bronze.s")
    assert list(history.columns[:3]) == ["snapshot_id", "timestamp", "operation"]
    assert len(history) == 2
    assert history.operation.tolist() == ["ingest_df:append", "merge"]
    assert history.notebook.tolist() == ["analysis.ipynb", "analysis.ipynb"]
    assert history.version.notna().all()
    assert history.iloc[1]["updated"] == "3"
    first = rat.ice_time_travel("bronze.s", int(history.snapshot_id.iloc[0]))
    assert sorted(first.qty) == [0, 1, 4]
    with pytest.raises(NotFound):
        rat.ice_time_travel("bronze.s", 12345)
    with pytest.raises(InvalidInput):
        rat.ice_time_travel("bronze.s", "12345")  # type: ignore[arg-type]


def test_temp_tables(rat: Rat) -> None:
    ref = rat.temp("lookup", pd.DataFrame({"region": ["EU"], "label": ["Europe"]}))
    assert ref == "{temp.lookup}"
    assert rat.temp("lookup").label.tolist() == ["Europe"]
    assert rat.temp_list() == ["lookup"]
    assert rat.temp_drop() == ["lookup"]
    assert rat.temp_list() == []


def test_helpers() -> None:
    df = pd.DataFrame({"a": ["x", "N/A", " NULL ", None, "NA"], "n": [1, 2, 3, 4, 5]})
    cleaned = Rat.clean(df)
    assert cleaned.a.isna().tolist() == [False, True, True, True, False]  # "NA" is data unless asked
    assert Rat.clean(df, markers=["NA"]).a.isna().tolist() == [False, False, False, True, True]
    # extra_markers adds to the defaults; markers replaces them; both: the markers plus the extras
    assert Rat.clean(df, extra_markers=["NA"]).a.isna().tolist() == [False, True, True, True, True]
    assert Rat.clean(df, markers=["x"], extra_markers=["NA"]).a.isna().tolist() == [
        True,
        False,
        False,
        True,
        True,
    ]
    with pytest.raises(InvalidInput, match=r"extra_markers=\['NA'\]"):
        Rat.clean(df, extra_markers="NA")  # type: ignore[arg-type]
    profile = Rat.nulls(df).set_index("column")
    assert profile.loc["a", "nulls"] == 1 and profile.loc["a", "null_like_strings"] == 2
    assert df.a.tolist()[1] == "N/A"  # the input is not modified
