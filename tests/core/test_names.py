"""Column and struct field names that need quoting or that pyiceberg stores sanitized read back intact."""

from __future__ import annotations

import pyarrow as pa

from ratatouille.session import Lakehouse

WEIRD = pa.struct([("a`", pa.int64()), ("b'", pa.string()), ("c\\", pa.float64()), ("d e", pa.int64())])


def test_names_with_spaces_quotes_and_leading_digits(lakehouse: Lakehouse) -> None:
    data = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "Order Date": ["a", "b"],
            "1st": pa.array([5, 6], pa.int64()),
            "s": pa.array([{"a`": 1, "b'": "x", "c\\": 2.0, "d e": 3}, None], WEIRD),
        }
    )
    lakehouse.write(data, "bronze.names")
    got = lakehouse.query_arrow("SELECT * FROM {bronze.names} ORDER BY id").to_pylist()
    assert got[0] == {"id": 1, "Order Date": "a", "1st": 5, "s": {"a`": 1, "b'": "x", "c\\": 2.0, "d e": 3}}
    assert (got[1]["Order Date"], got[1]["1st"]) == ("b", 6)
    # A read that plans no file (an empty result) renders the same types.
    assert lakehouse.query_arrow("SELECT * FROM {bronze.names} WHERE id > 100").num_rows == 0
    # Row-level writes find the rows by those names too.
    lakehouse.write(pa.table({"id": pa.array([2], pa.int64()), "1st": pa.array([9], pa.int64())}),
                    "bronze.names", mode="merge", merge_keys=["id"])  # fmt: skip
    assert lakehouse.delete("bronze.names", "`Order Date` = 'a'").rows == 1
    rows = lakehouse.query_arrow("SELECT `Order Date`, `1st` FROM {bronze.names}").to_pylist()
    assert rows == [{"Order Date": "b", "1st": 9}]


def test_staging_quotes_nested_names(lakehouse: Lakehouse) -> None:
    data = pa.table({"s": pa.array([{"a`": 1, "b'": "x", "c\\": 2.0, "d e": 4}], WEIRD)})
    lakehouse.temp_create("w", data)
    assert lakehouse.query_arrow("SELECT * FROM {temp.w}").to_pylist() == data.to_pylist()
