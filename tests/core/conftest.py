"""Fixtures of the core tests: a lakehouse with a small sales table on main."""

from __future__ import annotations

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.session import Lakehouse


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Rat:
    """``bronze.sales`` (ids 1-3) and ``silver.sales`` merged from it, on main, on each setup."""
    r = Rat(lakehouse)
    r.ice_ingest_df(pd.DataFrame({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.sales")
    r.transform("SELECT id, qty * 10 AS total FROM {bronze.sales}", "silver.sales", merge_keys=["id"])
    return r
