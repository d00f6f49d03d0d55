"""Completion in the kernel: table names where a table is expected (and nowhere else); columns of the
referenced tables with their types, ClickHouse functions and keywords in SQL cells; notebook variables
inside braces; and inspection of a table name.
"""

from __future__ import annotations

import time
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
    """(table completion, text it replaces) pairs, for a cursor at the end of ``text`` by default."""
    return [(t, replaced) for t, replaced, kind in complete_all(shell, text, cursor) if kind == "table"]


def complete_all(shell: Any, text: str, cursor: int | None = None) -> list[tuple[str, str, str]]:
    """(completion, text it replaces, type) triples."""
    offset = len(text) if cursor is None else cursor
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, offset))
    return [(c.text, text[c.start : c.end], c.type) for c in found]


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


@pytest.fixture
def sales(shell: Any) -> Any:
    df = pd.DataFrame({"id": [1, 2], "region": ["n", "s"], "revenue": [1.5, 2.0]})
    rat.ice_ingest_df(df, "silver.sales")
    rat.ice_ingest_df(pd.DataFrame({"id": [1], "name": ["Ada"]}), "bronze.customers")
    rat.ice_document("silver.sales", columns={"region": "Where it was sold"})
    load_fresh_names(shell)
    return shell


def words(shell: Any, text: str, cursor: int | None = None) -> dict[str, str]:
    """Completion -> its type, for the SQL words (not tables, nor IPython's own completions)."""
    ours = ("column: ", "function", "aggregate function", "keyword", "check")
    return {t: kind for t, _, kind in complete_all(shell, text, cursor) if kind.startswith(ours)}


def test_columns_of_the_referenced_tables_with_their_types(sales: Any) -> None:
    cell = "%%rat_sql\nSELECT re FROM {silver.sales}"
    found = complete_all(sales, cell, cursor=cell.index(" FROM"))
    assert ("region", "re", "column: string") in found
    assert ("revenue", "re", "column: double") in found
    # Columns only while some column matches (JupyterLab sorts equal matches alphabetically, which
    # would put readWKB before region); one more letter brings the functions.
    assert not [f for f in found if f[2] == "function"]
    assert words(sales, "%%rat_sql\nSELECT rep FROM {silver.sales}", cursor=20)["replaceAll"] == "function"
    # Only the tables the cell references: bronze.customers' name is not offered.
    assert "name" not in words(sales, "%%rat_sql\nSELECT na FROM {silver.sales}", cursor=17)
    joined = "%%rat_sql\nSELECT na, re FROM {silver.sales} s JOIN {bronze.customers} c ON s.id = c.id"
    assert words(sales, joined, cursor=joined.index(","))["name"] == "column: string"
    # After alias. only columns.
    cell = "%%rat_sql\nSELECT s.re FROM {silver.sales} s"
    assert words(sales, cell, cursor=cell.index(" FROM")) == {
        "region": "column: string",
        "revenue": "column: double",
    }
    # %%rat_check cells, and %rat_sql lines.
    cell = "%%rat_check\nSELECT * FROM {silver.sales} WHERE regi"
    assert words(sales, cell)["region"] == "column: string"
    assert words(sales, "%rat_sql SELECT regi FROM {silver.sales}", cursor=17)["region"] == "column: string"


def test_functions_and_keywords(sales: Any) -> None:
    assert words(sales, "%%rat_sql\nSELECT uniqEx")["uniqExact"] == "aggregate function"
    assert words(sales, "%%rat_sql\nSELECT toDat")["toDate"] == "function"
    assert words(sales, "%%rat_sql\nSELECT 1 FRO")["FROM"] == "keyword"
    assert words(sales, "%%rat_sql\nselect 1 fro")["from"] == "keyword"
    assert "COUNT" in words(sales, "%%rat_sql\nSELECT COU")  # a case-insensitive function, as typed


def test_no_sql_words_in_strings_comments_or_python(sales: Any) -> None:
    def sql_words(text: str) -> set[str]:
        return set(words(sales, text)) & {"region", "revenue", "replaceAll", "REPLACE", "replace"}

    assert sql_words("%%rat_sql\nSELECT * FROM {silver.sales} WHERE region = 're") == set()
    assert sql_words("%%rat_sql\nSELECT 1 FROM {silver.sales} -- re") == set()
    assert sql_words("%%rat_sql\nSELECT 1 FROM {silver.sales} /* re") == set()
    assert sql_words("%%rat_sql re\nSELECT 1 FROM {silver.sales}") == set()  # the options line
    assert sql_words("x = 1\nre") == set()  # Python


def test_notebook_variables_inside_braces(sales: Any) -> None:
    sales.user_ns.update({"min_qty": 3, "min_day": pd.Timestamp("2026-01-01"), "min_df": pd.DataFrame()})
    cell = "%%rat_sql\nSELECT * FROM {silver.sales} WHERE id > {min"
    found = complete_all(sales, cell)
    assert ("min_qty}", "min", "variable: Int64") in found
    assert ("min_day}", "min", "variable: DateTime64(6)") in found
    assert all(not t.startswith("min_df") for t, _, _ in found)  # a DataFrame is no value
    assert ("silver.sales}", "sil", "table") in complete_all(sales, "%%rat_sql\nSELECT * FROM {sil")
    # Not in rat.* strings (they take no notebook variables).
    assert all(kind == "table" for _, _, kind in complete_all(sales, 'rat.query("SELECT {min'))


def test_table_argument_of_doc_and_check(sales: Any) -> None:
    assert complete(sales, "%rat_doc silver.s") == [("silver.sales", "silver.s")]
    assert complete(sales, "%rat_check silver.s") == [("silver.sales", "silver.s")]
    assert complete(sales, "%rat_check severity=warn silver.s") == [("silver.sales", "silver.s")]
    assert complete(sales, "%%rat_check table=silver.s") == [("silver.sales", "silver.s")]
    # After the table of a %rat_check line: its columns and the shortcuts.
    assert words(sales, "%rat_check silver.sales not_null(reg") == {"region": "column: string"}
    assert words(sales, "%rat_check silver.sales not_null(region) uni") == {"unique": "check"}


def test_schemas_refresh_when_the_table_changes(sales: Any) -> None:
    cell = "%%rat_sql\nSELECT q FROM {silver.sales}"
    at = cell.index(" FROM")
    assert "qty" not in words(sales, cell, cursor=at)
    sales.user_ns["pd"] = pd
    recreate = (
        "rat.ice_drop('silver.sales')\n"
        "rat.ice_ingest_df(pd.DataFrame({'id': [1], 'qty': [2]}), 'silver.sales')"
    )
    sales.run_cell(recreate, store_history=False)
    assert words(sales, cell, cursor=at)["qty"] == "column: long"
    # A change from elsewhere (no cell ran) is seen once the schema is asked again: its metadata location
    # changed.
    rat.ice_drop("silver.sales")
    rat.ice_ingest_df(pd.DataFrame({"id": [1], "qty_b": [2]}), "silver.sales")
    time.sleep(1.1)
    assert words(sales, cell, cursor=at)["qty_b"] == "column: long"
    # A new table is listed after the cell that made it ran.
    sales.run_cell("rat.ice_ingest_df(pd.DataFrame({'k': [1]}), 'gold.fresh')", store_history=False)
    assert ("gold.fresh}", "gold.f") in complete(sales, "%%rat_sql\nSELECT * FROM {gold.f")


def test_inspect_a_table_name(sales: Any) -> None:
    for name in ("silver.sales", "{silver.sales}"):
        bundle = sales.object_inspect_mime(name)
        text = bundle["text/plain"]
        assert text.startswith("silver.sales · 2 rows · last snapshot ")
        assert "append" in text.splitlines()[0]
        assert "region   string  Where it was sold" in text
        assert "| `revenue` | `double` |" in bundle["text/markdown"]
        assert "text/html" in bundle  # ipykernel removes it; it must be there to remove
    # Anything else is IPython's.
    assert "len" in sales.object_inspect_mime("len")["text/plain"]
    with pytest.raises(KeyError):
        sales.object_inspect_mime("silver.nope")
    from ratatouille_jupyter import unload_ipython_extension

    unload_ipython_extension(sales)
    assert "object_inspect_mime" not in vars(sales)
    load_fresh_names(sales)
    assert "object_inspect_mime" in vars(sales)
