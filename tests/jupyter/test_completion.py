"""Table names complete where a table is expected, and nowhere else."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.completer import provisionalcompleter

from ratatouille import rat


@pytest.fixture
def tables(shell: Any) -> Any:
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "bronze.sales")
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "bronze.customers")
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "silver.sales")
    rat.temp("lookup", pd.DataFrame({"id": [1]}))
    load_fresh_names(shell)
    return shell


def load_fresh_names(shell: Any) -> None:
    # The names are cached for a few seconds; a fresh load starts with an empty cache.
    from ratatouille_jupyter import load_ipython_extension

    load_ipython_extension(shell)


def complete(shell: Any, text: str, cursor: int | None = None) -> list[tuple[str, str]]:
    """(completion, text it replaces) pairs, for a cursor at the end of ``text`` by default."""
    offset = len(text) if cursor is None else cursor
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, offset))
    return [(c.text, text[c.start : c.end]) for c in found if c.type == "table"]


def test_inside_braces_in_a_rat_sql_cell(tables: Any) -> None:
    cell = "%%rat_sql\nSELECT * FROM {bronze."
    assert complete(tables, cell) == [("bronze.customers}", "bronze."), ("bronze.sales}", "bronze.")]
    assert complete(tables, "%%rat_sql\nSELECT * FROM {sal") == [
        ("bronze.sales}", "sal"),
        ("silver.sales}", "sal"),
    ]
    assert ("temp.lookup}", "te") in complete(tables, "%%rat_sql\nSELECT * FROM {te")
    # The closing brace is already there: it is not added twice.
    cell = "%%rat_sql\nSELECT * FROM {silver.s} WHERE 1"
    assert complete(tables, cell, cursor=cell.index("}")) == [("silver.sales", "silver.s")]


def test_in_line_magics_and_options(tables: Any) -> None:
    assert complete(tables, "%rat_sql SELECT * FROM {silver.") == [("silver.sales}", "silver.")]
    assert complete(tables, "%%rat_sql target=silver.sa") == [("silver.sales", "silver.sa")]
    assert complete(tables, "%rat_history bronze.c") == [("bronze.customers", "bronze.c")]
    assert complete(tables, "%rat_ingest data/x.csv bronze.s") == [("bronze.sales", "bronze.s")]


def test_inside_rat_strings(tables: Any) -> None:
    assert complete(tables, 'df = rat.df("{bronze.s') == [("bronze.sales}", "bronze.s")]
    assert complete(tables, 'rat.df("bronze.s') == [("bronze.sales", "bronze.s")]
    assert complete(tables, "rat.query('SELECT 1 FROM {silver.") == [("silver.sales}", "silver.")]
    assert complete(tables, 'rat.transform(sql="SELECT * FROM {bronze.c') == [
        ("bronze.customers}", "bronze.c")
    ]


def test_nowhere_else(tables: Any) -> None:
    assert complete(tables, "x = {bron") == []
    assert complete(tables, "%%rat_sql {bron") == []  # the options line
    assert complete(tables, 'rat.df("{bronze.sales}")\nprint("{bron') == []


def test_a_broken_catalog_completes_nothing(shell: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Any:
        raise RuntimeError("catalog down")

    monkeypatch.setattr(rat, "ice_all", broken)
    load_fresh_names(shell)
    assert complete(shell, "%%rat_sql\nSELECT * FROM {bronze.") == []
