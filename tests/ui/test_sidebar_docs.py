"""The sidebar's documentation and check results in a real browser, on the documented sample lakehouse.

``bronze.sales`` has a description, owner, tags and column docs, and two stored check results (one
failed); ``bronze.customers`` has a PII column. Saves ``test-artifacts/sidebar-docs.png`` (the image of
``docs/img/sidebar-docs.png``).
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_sidebar_shows_docs_and_checks(lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    from ratatouille.checks import parse_spec, run_checks
    from ratatouille.config import Settings
    from ratatouille.session import Lakehouse

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab/workspaces/docs/tree/scratch.ipynb?reset&token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            page.locator('.jp-SideBar [data-id="ratatouille-explorer"]').click()
            # A wider sidebar, as a reader of documentation would drag it.
            handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
            box = handle.bounding_box()
            if box is not None:
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + 220, y, steps=5)
                page.mouse.up()

            # The tree flags the table whose error check failed, and only it.
            page.get_by_test_id("rat-namespace-bronze").click()
            sales = page.get_by_test_id("rat-table-bronze.sales")
            expect(sales.get_by_test_id("rat-check-badge")).to_have_text("fail", timeout=30_000)
            customers = page.get_by_test_id("rat-table-bronze.customers")
            expect(customers).to_be_visible()
            expect(customers.get_by_test_id("rat-check-badge")).to_have_count(0)

            # The filter searches descriptions and shows the text it matched.
            page.get_by_label("Filter tables").fill("crm")
            expect(customers).to_be_visible()
            expect(customers.locator(".jp-RatTree-match")).to_have_text("CRM")
            expect(sales).to_have_count(0)
            customers.click()
            detail = page.locator(".jp-RatDetail")
            expect(detail.get_by_test_id("rat-docs")).to_contain_text("Customer master data from the CRM")
            expect(detail.get_by_test_id("rat-column-name").locator(".jp-RatPii")).to_have_text("PII")
            expect(detail.get_by_test_id("rat-column-id").locator(".jp-RatPii")).to_have_count(0)
            expect(detail.get_by_test_id("rat-column-name")).to_contain_text("Full name")

            # The documented table: description, owner, tag chips, column docs, checks.
            page.get_by_label("Filter tables").fill("order line")
            sales.click()
            docs = detail.get_by_test_id("rat-docs")
            expect(docs).to_contain_text("Orders as the shop exports them")
            expect(docs).to_contain_text("sales-data@example.com")
            expect(docs.locator(".jp-RatChip")).to_have_text(["finance", "daily"])
            expect(detail.get_by_test_id("rat-column-region")).to_contain_text("Sales region of the shop")
            summary = detail.get_by_test_id("rat-checks-summary")
            expect(summary).to_contain_text("Checks: 1 failed · 1 passed")
            summary.click()
            expect(detail.get_by_role("tab", name="Checks")).to_have_attribute("aria-selected", "true")
            failed = detail.get_by_test_id("rat-check-not_null(region)")
            expect(failed).to_contain_text("1 violating row")
            expect(failed).to_contain_text("error")
            expect(detail.get_by_test_id("rat-check-not_null(id)")).to_contain_text("passed")
            failed.locator("summary").click()
            expect(failed).to_contain_text("WHERE `region` IS NULL")
            expect(failed.locator(".jp-RatCheck-sample tbody tr")).to_have_count(1)
            expect(failed.locator(".jp-RatCheck-sample")).to_contain_text("7.25")
            page.screenshot(path=str(ARTIFACTS / "sidebar-docs.png"))

            # A check run elsewhere (a notebook, a pipeline) shows up at the next poll.
            page.get_by_label("Filter tables").fill("")
            page.get_by_test_id("rat-namespace-silver").click()
            daily = page.get_by_test_id("rat-table-silver.daily")
            expect(daily).to_be_visible()
            expect(daily.get_by_test_id("rat-check-badge")).to_have_count(0)
            lh = Lakehouse(Settings.for_home(lab.root.parent / "lakehouse"))
            run_checks(lh, parse_spec("silver.daily row_count(>5)", severity="warn"))
            lh.close()
            expect(daily.get_by_test_id("rat-check-badge")).to_have_text("warn", timeout=20_000)
        finally:
            browser.close()
