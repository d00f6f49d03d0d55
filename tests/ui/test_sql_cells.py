"""SQL cells in a real browser: a ``%%rat_sql`` cell is highlighted as ClickHouse SQL, not Python.

Types a Python cell and a ``%%rat_sql`` cell into a notebook and reads the classes CodeMirror put on the
tokens: ``SELECT`` carries the keyword classes in the SQL cell (the same highlight class as a Python
keyword, plus ``tok-keyword``) and not in the Python cell, ``{silver.sales}`` the reference class,
``{limit}`` the parameter class. Removing the magic turns the cell back into Python. Saves
``test-artifacts/sql-cell.png`` (the image of ``docs/img/sql-cell.png``).
The frontend must have been built (``npm run build:prod`` in ``labextension/``, or ``pip install``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SQL = "SELECT region, sum(x) FROM {silver.sales} WHERE y > {limit}"
SHOWCASE = (
    "%%rat_sql name=top limit=20\n"
    "SELECT region, sum(total) AS revenue, uniqExact(customer_id) AS customers\n"
    "FROM {silver.sales@dev}\n"
    "WHERE order_date >= toDate('2024-01-01') AND qty >= {min_qty}  -- {not_a_param}\n"
    "GROUP BY region\n"
    "ORDER BY revenue DESC"
)

# The classes of the token spans of one cell's editor: [[text, "class list"], ...].
_TOKENS_JS = """cell => Array.from(cell.querySelectorAll('.cm-content span')).map(s => [
    s.textContent,
    s.className + ' ' + (s.parentElement.closest('span') || {className: ''}).className
])"""


def _classes(tokens: list[list[str]], text: str, *, required: bool = True) -> set[str]:
    """The classes of the innermost span holding exactly ``text`` (and of its enclosing span).

    A token no highlighter styles has no span: then the set is empty (or, when ``required``, an error).
    """
    found = [cls for t, cls in tokens if t == text]
    assert found or not required, f"no token {text!r} in {tokens}"
    return set(found[-1].split()) if found else set()


def _cell_tokens(page: Any, index: int) -> list[list[str]]:
    handle = page.locator(".jp-Notebook .jp-Cell").nth(index).element_handle()
    tokens: list[list[str]] = page.evaluate(_TOKENS_JS, handle)
    return tokens


def _type_new_cell(page: Any, text: str) -> None:
    """Add a code cell below the active one and type ``text`` into it, line by line."""
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    for i, line in enumerate(text.split("\n")):
        if i:
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")  # drop any automatic indentation
            page.keyboard.press("Delete")
        page.keyboard.type(line)


def test_sql_cell_highlighting(lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{lab.url}/lab/tree/scratch.ipynb?token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            # The cells are IPython once the kernel has told its language.
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
                1, timeout=60_000
            )

            # A Python cell: a keyword, and SELECT as a plain Python name.
            cells = page.locator(".jp-Notebook .jp-Cell")
            cells.first.locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.type("import os\nSELECT = sum([1])")
            _type_new_cell(page, "%%rat_sql\n" + SQL)
            sql_cell = cells.nth(1)
            expect(sql_cell.locator(".cm-content.rat-sql-cell")).to_have_count(1, timeout=15_000)
            expect(sql_cell.locator(".rat-sql-ref")).to_have_text("{silver.sales}")
            expect(sql_cell.locator(".rat-sql-param")).to_have_text("{limit}")
            expect(sql_cell.locator(".rat-sql-magic")).to_have_text("%%rat_sql")

            python = _cell_tokens(page, 0)
            sql = _cell_tokens(page, 1)
            keyword = _classes(python, "import") - {"tok-keyword"}
            assert keyword, python
            python_select = _classes(python, "SELECT", required=False)
            assert not keyword & python_select, (keyword, python_select)
            assert "tok-keyword" not in python_select
            sql_select = _classes(sql, "SELECT")
            assert keyword <= sql_select, (keyword, sql_select)
            assert "tok-keyword" in sql_select
            for word in ("FROM", "WHERE"):
                assert "tok-keyword" in _classes(sql, word)
            assert "rat-sql-function" in _classes(sql, "sum")
            assert "rat-sql-function" not in _classes(python, "sum")
            assert cells.first.locator(".cm-content.rat-sql-cell").count() == 0

            # Without its magic the cell is Python again; with it, SQL again.
            sql_cell.locator(".cm-content").click()
            page.keyboard.press("Control+Home")
            page.keyboard.press("Delete")
            expect(sql_cell.locator(".cm-content.rat-sql-cell")).to_have_count(0, timeout=10_000)
            expect(sql_cell.locator(".rat-sql-ref")).to_have_count(0)
            assert "tok-keyword" not in _classes(_cell_tokens(page, 1), "SELECT", required=False)
            page.keyboard.type("%")
            expect(sql_cell.locator(".cm-content.rat-sql-cell")).to_have_count(1, timeout=10_000)
            assert "tok-keyword" in _classes(_cell_tokens(page, 1), "SELECT")

            # The picture of the docs: a fuller cell, next to the Python one.
            page.keyboard.press("Control+End")
            _type_new_cell(page, SHOWCASE)
            showcase = cells.nth(2)
            expect(showcase.locator(".rat-sql-ref")).to_have_text("{silver.sales@dev}")
            expect(showcase.locator(".rat-sql-param")).to_have_text("{min_qty}")
            page.keyboard.press("Escape")
            cells.first.click()
            page.mouse.move(5, 790)
            top = page.locator(".jp-NotebookPanel").first.bounding_box()
            bottom = showcase.bounding_box()
            assert top and bottom
            height = bottom["y"] + bottom["height"] + 16 - top["y"]
            clip = {"x": top["x"], "y": top["y"], "width": top["width"], "height": height}
            page.screenshot(path=str(ARTIFACTS / "sql-cell.png"), clip=clip)
        finally:
            browser.close()
