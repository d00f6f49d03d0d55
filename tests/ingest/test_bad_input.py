"""Every kind of bad file gets one clear error naming the file (and row or sheet); the table is unchanged."""

from __future__ import annotations

import gzip
import json

import pytest

from ratatouille.errors import InvalidInput, NotFound
from ratatouille.ingest import BadFile
from ratatouille.sdk import Rat
from tests.helpers import head

from .conftest import Landing, xlsx

GOOD = "id,name,amount\n1,a,1.5\n2,b,2.5\n"


@pytest.fixture
def table(rat: Rat, landing: Landing) -> str:
    """``bronze.target``, holding one good file."""
    rat.ice_ingest(landing.put("good.csv", GOOD), "bronze.target")
    return "bronze.target"


def _refused(rat: Rat, table: str, path: str, pattern: str, **options: object) -> BadFile:
    before = head(rat.session, table)
    with pytest.raises(BadFile, match=pattern) as info:
        rat.ice_ingest(path, table, **options)  # type: ignore[arg-type]
    assert path.rsplit("/", 1)[-1] in str(info.value)
    assert head(rat.session, table) == before
    return info.value


def test_empty_file(rat: Rat, landing: Landing, table: str) -> None:
    _refused(rat, table, landing.put("empty.csv", b""), "the file is empty")
    _refused(rat, table, landing.put("blank.csv", b"\n\n  \n"), "the file is empty")


def test_header_only(rat: Rat, landing: Landing, table: str) -> None:
    _refused(rat, table, landing.put("header.csv", "id,name,amount\n"), "header row but no data rows")
    book = xlsx({"Data": [["id", "name"]]})
    err = _refused(rat, table, landing.put("header.xlsx", book), "header row but no data rows")
    assert err.sheet == "Data"


def test_ragged_rows(rat: Rat, landing: Landing, table: str) -> None:
    err = _refused(rat, table, landing.put("ragged.csv", GOOD + "3,c,3.5,extra\n4,d,4.5\n"), "4 fields")
    assert err.row == 4


def test_truncated_files(rat: Rat, landing: Landing, table: str) -> None:
    err = _refused(rat, table, landing.put("cut.csv", GOOD + "3,c"), "looks truncated")
    assert err.row == 4
    data = gzip.compress((GOOD * 2000).encode())
    _refused(rat, table, landing.put("cut.csv.gz", data[: len(data) // 2]), "damaged or truncated")
    book = xlsx({"Data": [["id"], [1]]})
    _refused(rat, table, landing.put("cut.xlsx", book[: len(book) // 2]), "damaged or truncated")
    _refused(rat, table, landing.put("cut.json", json.dumps([{"id": 1}, {"id": 2}])[:-5]), "truncated")
    _refused(rat, table, landing.put("cut.ndjson", '{"id": 3}\n{"id": 4, "na'), r"row 2.*truncated")


def test_wrong_encoding(rat: Rat, landing: Landing, table: str) -> None:
    data = ("id,name,amount\n" + "".join(f"{i},plain,1\n" for i in range(5)) + "9,café,1\n").encode("cp1252")
    err = _refused(rat, table, landing.put("latin.csv", data), "not valid utf-8", encoding="utf-8")
    assert err.row == 7
    # Left to detection, the same file reads as cp1252.
    df, _ = rat.ice_ingest("landing/latin.csv", "bronze.latin")
    assert "café" in set(df["name"])


def test_missing_sheet(rat: Rat, landing: Landing, table: str) -> None:
    path = landing.put("book.xlsx", xlsx({"Jan": [["id"], [1]], "Feb": [["id"], [2]]}))
    err = _refused(rat, table, path, r"no sheet 'Mar'.*'Jan'.*'Feb'", sheet="Mar")
    assert err.sheet == "Mar"
    _refused(rat, table, path, "no sheet 5", sheet=5)


def test_not_what_the_extension_says(rat: Rat, landing: Landing, table: str) -> None:
    book = xlsx({"Data": [["id"], [1]]})
    _refused(rat, table, landing.put("fake.csv", book), "not a CSV file.*Excel")
    _refused(rat, table, landing.put("fake.xlsx", GOOD), r"not an Excel \(.xlsx\) file.*text")
    _refused(rat, table, landing.put("fake.parquet", GOOD), "not a Parquet file")
    _refused(rat, table, landing.put("fake.csv.gz", GOOD), "not gzip")
    _refused(rat, table, landing.put("binary.csv", bytes(range(256)) * 8), "binary data")


def test_missing_file_says_where_it_looked(rat: Rat, table: str) -> None:
    with pytest.raises(NotFound, match=r"no file 'landing/nope.csv': looked in .*nope.csv and .*nope.csv"):
        rat.ice_ingest("landing/nope.csv", table)


def test_bad_options(local_rat: Rat) -> None:
    with pytest.raises(InvalidInput, match="unknown option"):
        local_rat.ice_ingest("x.csv", "bronze.t", delimeter=";")
    with pytest.raises(InvalidInput, match="invalid table name"):
        local_rat.ice_ingest("x.csv", "nonamespace")
