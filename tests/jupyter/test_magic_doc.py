"""``%rat_doc``: showing and setting a table's documentation in an in-process shell."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError

from ratatouille import rat
from ratatouille.catalog import load_table
from ratatouille_jupyter.magics.doc import TableDocView, parse_doc_options
from tests.jupyter.conftest import run_cell


@pytest.fixture
def sales(shell: Any) -> Any:
    rat.ice_ingest_df(
        pd.DataFrame({"id": [1, 2], "email": ["a@x", "b@x"], "total": [1.0, 2.0]}), "bronze.sales"
    )
    return shell


def test_show_and_set(sales: Any) -> None:
    view = run_cell(sales, "%rat_doc bronze.sales")
    assert isinstance(view, TableDocView) and view.doc.description is None
    text = repr(view)
    assert text.startswith("bronze.sales\n(no description)") and "owner: —" in text and "2 rows" in text

    view = run_cell(
        sales,
        '%rat_doc bronze.sales description="One row per sale" owner=ana tags=finance,daily '
        'pii=email col.total="price x qty"',
    )
    doc = view.doc
    assert (doc.description, doc.owner, doc.tags, doc.pii) == (
        "One row per sale",
        "ana",
        ["finance", "daily"],
        ["email"],
    )
    assert {c.name: c.doc for c in doc.columns}["total"] == "price x qty"
    assert rat.ice_doc("bronze.sales") == doc
    assert load_table(rat.session.catalog, "bronze.sales").schema().find_field("total").doc == "price x qty"

    text = repr(view)
    assert "tags: finance, daily" in text
    assert any(line.split()[:3] == ["email", "string", "PII"] for line in text.splitlines())
    page = sales.display_formatter.format(view)[0]["text/html"]
    assert "One row per sale" in page and ">PII</span>" in page and "price x qty" in page

    # An empty value clears; the rest stays.
    cleared = sales.run_line_magic("rat_doc", 'bronze.sales description="" tags="" col.total=""').doc
    assert (cleared.description, cleared.tags, cleared.owner, cleared.pii) == (None, [], "ana", ["email"])


def test_html_is_escaped(sales: Any) -> None:
    view = sales.run_line_magic("rat_doc", "bronze.sales description='<b>x</b> & y'")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in view._repr_html_()


def test_mistakes_are_one_line_and_change_nothing(sales: Any) -> None:
    before = load_table(rat.session.catalog, "bronze.sales").metadata_location
    for line, message in [
        ("", "usage: %rat_doc"),
        ("bronze.sales owner=ana col.nope=x", "no column 'nope'"),
        ("bronze.sales owner=ana pii=phone", "pii: the table has no column 'phone'"),
        ("bronze.sales ownr=ana", "did you mean owner?"),
        ("bronze.sales owner=a owner=b", "given twice"),
        ("bronze.sales ana", "options are key=value"),
        ("bronze.nope owner=ana", "bronze.nope does not exist"),
        ("bronze.sales description='unclosed", "check the quotes"),
    ]:
        with pytest.raises(UsageError, match=message) as e:
            sales.run_line_magic("rat_doc", line)
        assert "\n" not in str(e.value)
    assert load_table(rat.session.catalog, "bronze.sales").metadata_location == before


def test_parse_doc_options() -> None:
    assert parse_doc_options(["tags=a, b,", "pii=", "col.a.b=x", "description="]) == {
        "tags": ["a", "b"], "pii": [], "columns": {"a.b": "x"}, "description": "",
    }  # fmt: skip
