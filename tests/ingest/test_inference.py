"""Types you can trust: inference over the whole file, null markers, declared types, table types."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from ratatouille.errors import InvalidInput
from ratatouille.sdk import Rat
from tests.helpers import head

from .conftest import Landing, xlsx


def types(rat: Rat, table: str) -> dict[str, str]:
    schema = rat.session.catalog.load_table(table).schema().as_arrow()
    return {f.name: str(f.type).replace("large_string", "string") for f in schema}


def test_csv_types_and_markers(local_rat: Rat, local_landing: Landing) -> None:
    text = (
        "id,day,ts,tstz,amount,code,flag,note,country\n"
        "1,2024-01-01,2024-01-01 10:00:00,2024-01-01T10:00:00Z,1.5,007,true,hello,NA\n"
        "2,,2024-01-02T11:30:00.123456,2024-01-01T12:00:00+02:00,NA,012,FALSE,,FR\n"
        "3,2024-01-03,,2024-01-02T00:00:00Z,N/A,100,true,NULL,DE\n"
        "4,2024-01-04,2024-01-04 09:00,,-,200,false,x,NA\n"
    )
    _, rows = local_rat.ice_ingest(local_landing.put("t.csv", text), "bronze.t")
    assert rows == 4
    t = types(local_rat, "bronze.t")
    assert t["id"] == "int64" and t["day"] == "date32[day]" and t["ts"] == "timestamp[us]"
    assert t["tstz"] == "timestamp[us, tz=UTC]" and t["amount"] == "double" and t["flag"] == "bool"
    assert t["code"] == "string"  # leading zeros: a code, not a number
    out = local_rat.query("SELECT * FROM {bronze.t} ORDER BY id")
    assert out["day"].isna().tolist() == [False, True, False, False]
    assert out["amount"].isna().tolist() == [False, True, True, True]
    assert out["code"].tolist() == ["007", "012", "100", "200"]
    # Text columns keep what looks like a marker: "NA" is Namibia, "" and "NULL" are text here.
    assert out["country"].tolist() == ["NA", "FR", "DE", "NA"]
    assert out["note"].tolist() == ["hello", "", "NULL", "x"]
    assert out["tstz"].iloc[1] == dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)


def test_user_null_markers_apply_to_text(local_rat: Rat, local_landing: Landing) -> None:
    path = local_landing.put("m.csv", "id,note\n1,hello\n2,\n3,-\n")
    local_rat.ice_ingest(path, "bronze.m", null_markers=["", "-"])
    out = local_rat.query("SELECT note FROM {bronze.m} ORDER BY id")
    assert out["note"].isna().tolist() == [False, True, True]


def test_late_values_decide_the_type(local_rat: Rat, local_landing: Landing) -> None:
    # 2 MB chunks (memory_mb=16): the date column is empty for the first chunks, then holds dates;
    # the "ref" column holds integers until a text value near the end (a restart, still one commit).
    n = 120_000
    lines = ["id,when,ref"]
    for i in range(n):
        when = "" if i < n - 10 else "2024-03-01"
        ref = str(i) if i < n - 5 else f"R-{i}"
        lines.append(f"{i},{when},{ref}")
    path = local_landing.put("late.csv", "\n".join(lines) + "\n")
    _, rows = local_rat.ice_ingest(path, "bronze.late", memory_mb=16)
    assert rows == n
    t = types(local_rat, "bronze.late")
    assert t["when"] == "date32[day]" and t["ref"] == "string"
    out = local_rat.query("SELECT count(when) AS dates, max(ref) AS top FROM {bronze.late}")
    assert out["dates"][0] == 10
    assert len(local_rat.ice_history("bronze.late")) == 1


def test_declared_types_win(local_rat: Rat, local_landing: Landing) -> None:
    path = local_landing.put("d.csv", "id,zip,day,amount\n1,01234,03/02/2024,1.50\n2,75001,04/02/2024,2\n")
    local_rat.ice_ingest(path, "bronze.d", dtypes={"id": "int32", "day": "date:%d/%m/%Y",
                                                   "amount": "decimal(10,2)"})  # fmt: skip
    t = types(local_rat, "bronze.d")
    assert t["id"] == "int32" and t["day"] == "date32[day]" and t["amount"] == "decimal128(10, 2)"
    assert local_rat.query("SELECT day FROM {bronze.d} ORDER BY id")["day"][0] == dt.date(2024, 2, 3)
    with pytest.raises(InvalidInput, match="unknown type"):
        local_rat.ice_ingest(path, "bronze.d2", dtypes={"id": "whatever"})


def test_schema_must_match_columns(local_rat: Rat, local_landing: Landing) -> None:
    path = local_landing.put("s.csv", "a,b\n1,2\n")
    local_rat.ice_ingest(path, "bronze.s", schema=pa.schema([("a", pa.int64()), ("b", pa.string())]))
    assert types(local_rat, "bronze.s")["b"] == "string"
    with pytest.raises(InvalidInput, match=r"s\.csv.*'c'.*not in the file"):
        local_rat.ice_ingest(path, "bronze.s", schema={"a": int, "b": str, "c": str})


def test_table_types_are_kept_and_conflicts_refused(local_rat: Rat, local_landing: Landing) -> None:
    local_rat.ice_ingest(local_landing.put("a.csv", "id,code,qty\n1,A1,5\n"), "bronze.tt")
    # Digits only this time: "code" stays text (the table says so), a new column evolves the schema.
    local_rat.ice_ingest(local_landing.put("b.csv", "id,code,qty,extra\n2,0042,6,x\n"), "bronze.tt")
    assert local_rat.query("SELECT code FROM {bronze.tt} ORDER BY id")["code"].tolist() == ["A1", "0042"]
    assert "extra" in types(local_rat, "bronze.tt")
    before = head(local_rat.session, "bronze.tt")
    bad = local_landing.put("c.csv", "id,code,qty\n3,B,lots\n")
    with pytest.raises(InvalidInput, match=r"c\.csv \(row 2\): column 'qty' is long .* 'lots'"):
        local_rat.ice_ingest(bad, "bronze.tt")
    assert head(local_rat.session, "bronze.tt") == before


def test_excel_types(local_rat: Rat, local_landing: Landing) -> None:
    rows = [
        ["id", "day", "at", "price", "label", "mixed"],
        [1, dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 8, 30), 1.5, "a", 1],
        [2, dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2, 9, 0), "N/A", "N/A", "two"],
        [3, None, None, 3, None, 3.5],
    ]
    local_rat.ice_ingest(local_landing.put("x.xlsx", xlsx({"S": rows})), "bronze.x")
    t = types(local_rat, "bronze.x")
    assert t["id"] == "int64" and t["day"] == "date32[day]" and t["at"] == "timestamp[us]"
    assert t["price"] == "double" and t["mixed"] == "string"
    out = local_rat.query("SELECT * FROM {bronze.x} ORDER BY id")
    assert out["label"].tolist()[:2] == ["a", "N/A"]  # text keeps "N/A"
    assert out["price"].isna().tolist() == [False, True, False]  # numbers turn "N/A" into NULL
    assert out["mixed"].tolist() == ["1", "two", "3.5"]
