"""Notebook variables in SQL become typed query parameters; table references and literals are untouched."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from ratatouille_jupyter.magics.params import bind_variables, clickhouse_type


def test_variables_become_typed_placeholders() -> None:
    sql = "SELECT * FROM {bronze.sales} WHERE qty > {min_qty} AND region = { region } AND qty < {min_qty}"
    bound = bind_variables(sql, {"min_qty": 3, "region": "north"})
    assert bound.sql == (
        "SELECT * FROM {bronze.sales} WHERE qty > {min_qty:Int64} AND region = {region:String} "
        "AND qty < {min_qty:Int64}"
    )
    assert bound.parameters == {"min_qty": 3, "region": "north"}


def test_literals_comments_and_references_are_left_alone() -> None:
    sql = "SELECT '{x}', match(s, '\\d{4}') -- {x}\n/* {x} */ FROM {silver.t@dev} WHERE y = {x}"
    bound = bind_variables(sql, {"x": 1.5})
    assert bound.sql == sql.replace("y = {x}", "y = {x:Float64}")
    assert bound.parameters == {"x": 1.5}


def test_typed_placeholder_binds_the_variable_with_the_written_type() -> None:
    bound = bind_variables(
        "SELECT {n:Int32}, {t:DateTime64(6, 'UTC')}", {"n": 7, "t": dt.datetime(2024, 1, 1)}
    )
    assert bound.sql == "SELECT {n:Int32}, {t:DateTime64(6, 'UTC')}"
    assert bound.types == {"n": "Int32", "t": "DateTime64(6, 'UTC')"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "Bool"),
        (np.bool_(False), "Bool"),
        (3, "Int64"),
        (np.int32(3), "Int64"),
        (2**63, "UInt64"),
        (2**70, "Int256"),
        (1.5, "Float64"),
        (np.float32(1.5), "Float64"),
        (decimal.Decimal("1.25"), "Decimal(38, 2)"),
        ("text", "String"),
        (b"bytes", "String"),
        (dt.datetime(2024, 1, 1), "DateTime64(6)"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "DateTime64(6, 'UTC')"),
        (pd.Timestamp("2024-01-01"), "DateTime64(6)"),
        (dt.date(2024, 1, 1), "Date32"),
        (uuid.UUID(int=1), "UUID"),
        (None, "Nullable(String)"),
        (["a", "b"], "Array(String)"),
        ((1, 2), "Array(Int64)"),
        ([1, 2.5], "Array(Float64)"),
        ([1, None], "Array(Nullable(Int64))"),
        ([], "Array(String)"),
    ],
)
def test_clickhouse_types(value: object, expected: str) -> None:
    assert clickhouse_type("v", value) == expected


def test_unknown_variable() -> None:
    with pytest.raises(UsageError, match=r"\{nope\} on line 2: there is no notebook variable 'nope'"):
        bind_variables("SELECT 1\nWHERE x = {nope}", {})


def test_dataframe_is_refused_with_the_way_to_use_it() -> None:
    with pytest.raises(UsageError, match=r"is a DataFrame, not a value: make it a table with rat.temp"):
        bind_variables("SELECT * FROM t WHERE x IN {df}", {"df": pd.DataFrame({"a": [1]})})


def test_other_objects_and_mixed_lists_are_refused() -> None:
    with pytest.raises(UsageError, match="is a function"):
        bind_variables("SELECT {f}", {"f": lambda: 1})
    with pytest.raises(UsageError, match="mix types"):
        bind_variables("SELECT {xs}", {"xs": [1, "a"]})
