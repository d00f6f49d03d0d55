"""Completion and inspection of SQL cells in a real browser: JupyterLab on the sample lakehouse.

Typing ``SELECT re`` in a ``%%rat_sql`` cell over ``{bronze.sales}`` and pressing Tab offers the column
``region`` (with its type, before any function); after ``s.`` (the table's alias) Tab lists its columns
with their types; Shift+Tab on the table reference shows its schema. The screenshot goes to
``test-artifacts/completion.png``. The frontend must have been built (see tests/ui/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_column_completion_and_table_inspection(lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab/workspaces/completion/tree/scratch.ipynb?reset&token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            # Run nothing before the kernel is up: a cell run while it starts can be lost.
            expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
            first = page.locator(".jp-Notebook .jp-Cell").first
            first.locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.type("%load_ext ratatouille")
            page.keyboard.press("Shift+Enter")
            expect(first.locator(".jp-InputPrompt")).to_contain_text("[1]", timeout=60_000)

            cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
            cell.locator(".cm-content").click()
            page.keyboard.type("%%rat_sql\nSELECT re\nFROM {bronze.sales")
            if not cell.locator(".cm-content").inner_text().rstrip().endswith("}"):
                page.keyboard.type("}")  # the editor did not close the brace itself
            page.keyboard.type(" s")
            page.keyboard.press("ArrowUp")
            page.keyboard.press("End")
            status = page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel)")
            expect(status).to_contain_text("Idle", timeout=30_000)
            page.wait_for_timeout(500)  # the editor settles on the moved cursor before Tab asks
            page.keyboard.press("Tab")
            # Columns come before functions: region is the one column starting with "re", and the only
            # completion offered while it matches.
            completer = page.locator(".jp-Completer")
            expect(completer).to_be_visible(timeout=15_000)
            region = completer.locator('.jp-Completer-item[data-value="region"]')
            expect(region.locator(".jp-Completer-typeExtended")).to_have_text("column: string")
            expect(completer.locator(".jp-Completer-item")).to_have_count(1)
            region.click()
            expect(cell.locator(".cm-content")).to_contain_text("SELECT region")

            # After an alias, every column of its table, with its type.
            page.keyboard.type(", s.")
            page.wait_for_timeout(300)
            page.keyboard.press("Tab")
            expect(completer).to_be_visible(timeout=15_000)
            amount = completer.locator('.jp-Completer-item[data-value="amount"]')
            expect(amount).to_be_visible()
            region = completer.locator('.jp-Completer-item[data-value="region"]')
            expect(region.locator(".jp-Completer-typeExtended")).to_have_text("column: string")
            page.wait_for_timeout(500)  # the completer sizes itself to its items
            page.screenshot(path=str(ARTIFACTS / "completion.png"))
            amount.click()
            expect(cell.locator(".cm-content")).to_contain_text("SELECT region, s.amount")

            # Shift+Tab on the table reference: its schema, row count and last snapshot.
            page.keyboard.press("ArrowDown")
            page.keyboard.press("End")
            for _ in range(4):  # into "sales" of "{bronze.sales} s"
                page.keyboard.press("ArrowLeft")
            page.keyboard.press("Shift+Tab")
            tooltip = page.locator(".jp-Tooltip")
            expect(tooltip).to_contain_text("bronze.sales", timeout=15_000)
            expect(tooltip).to_contain_text("last snapshot")
            expect(tooltip).to_contain_text("amount")
            page.screenshot(path=str(ARTIFACTS / "inspect.png"))
            page.keyboard.press("Escape")

            # The completed query runs.
            page.keyboard.press("Shift+Enter")
            expect(cell.locator(".jp-OutputArea")).to_contain_text("north", timeout=60_000)
        finally:
            browser.close()
