"""The sidebar in a real browser: JupyterLab on a sample lakehouse, driven with Debian's Chromium.

Opens the panel, filters, opens a table, previews rows, inserts a ``%%rat_sql`` cell into a notebook,
reads the kernel's branch in the status bar, and saves a screenshot to ``test-artifacts/sidebar.png``;
compacts a table's small files from its detail (``test-artifacts/sidebar-compact.png``, the image of
``docs/img/sidebar-compact.png``).
The frontend must have been built (``npm run build:prod`` in ``labextension/``, or ``pip install``).
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, Lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_sidebar_end_to_end(lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab/tree/scratch.ipynb?token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)

            # The rat icon in the left bar opens the panel; namespaces load lazily.
            page.locator('.jp-SideBar [data-id="ratatouille-explorer"]').click()
            expect(page.get_by_test_id("rat-namespace-bronze")).to_be_visible(timeout=30_000)
            expect(page.get_by_test_id("rat-namespace-many")).to_be_visible()

            # Keyboard: expand the first namespace with ArrowRight.
            page.get_by_test_id("rat-namespace-bronze").focus()
            page.keyboard.press("ArrowRight")
            expect(page.get_by_test_id("rat-table-bronze.customers")).to_be_visible()

            # Filter, then open the table.
            page.get_by_label("Filter tables").fill("sales")
            table = page.get_by_test_id("rat-table-bronze.sales")
            expect(table).to_be_visible()
            expect(page.get_by_test_id("rat-table-bronze.customers")).to_have_count(0)
            table.click()
            detail = page.locator(".jp-RatDetail")
            expect(detail.locator(".jp-RatDetail-stats")).to_contain_text("4 rows")
            expect(detail.locator(".jp-RatTable")).to_contain_text("region")

            # History with provenance.
            detail.get_by_role("tab", name="Snapshots").click()
            expect(detail).to_contain_text("dev_work.ipynb")

            # Branch actions through the browser (POST and DELETE pass the XSRF check).
            detail.get_by_role("button", name="Branch…").click()
            page.locator(".jp-Dialog input").fill("feature/ui")
            page.locator(".jp-Dialog .jp-mod-accept").click()
            table.focus()
            page.keyboard.press("ArrowRight")
            new_ref = page.get_by_test_id("rat-ref-bronze.sales@feature/ui")
            expect(new_ref).to_be_visible(timeout=10_000)
            new_ref.click()
            expect(detail.locator(".jp-RatDetail-title")).to_have_text("bronze.sales@feature/ui")
            detail.get_by_role("button", name="Drop branch").click()
            page.locator(".jp-Dialog .jp-mod-accept").click()
            expect(new_ref).to_have_count(0, timeout=10_000)
            page.keyboard.press("Escape")

            # Preview rows in the grid.
            detail.get_by_role("button", name="Preview", exact=True).click()
            grid = page.locator(".jp-RatGrid")
            expect(grid.locator("tbody tr")).to_have_count(4)
            expect(grid).to_contain_text("north")

            # Insert a %%rat_sql cell into the open notebook.
            detail.get_by_role("button", name="Insert cell").click()
            expect(page.locator(".jp-Notebook .jp-Cell").nth(1)).to_contain_text("%%rat_sql", timeout=10_000)
            expect(page.locator(".jp-Notebook .jp-Cell").nth(1)).to_contain_text("FROM {bronze.sales}")

            # The status bar shows the kernel's branch once the kernel has a session on a branch.
            first = page.locator(".jp-Notebook .jp-Cell").first
            first.click()
            page.keyboard.press("Escape")
            editor = first.locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.type(
                "import pyarrow as pa\nfrom ratatouille import rat\n"
                "rat.session.write(pa.table({'x': [1]}), 'bronze.fresh')\n"
                "rat.session.use_branch('dev')"
            )
            page.keyboard.press("Shift+Enter")
            expect(page.locator(".jp-RatStatus")).to_contain_text("dev", timeout=30_000)

            # The tree again: it refreshed by itself after the cell wrote a new table.
            page.get_by_label("Filter tables").fill("")
            expect(page.get_by_test_id("rat-table-bronze.fresh")).to_be_visible(timeout=15_000)
            sales = page.get_by_test_id("rat-table-bronze.sales")
            expect(sales).to_be_visible()
            sales.focus()
            page.keyboard.press("ArrowRight")
            expect(page.get_by_test_id("rat-ref-bronze.sales@dev")).to_be_visible()
            handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
            box = handle.bounding_box()
            if box:
                page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 200)
                page.mouse.down()
                page.mouse.move(box["x"] + 260, box["y"] + 200, steps=5)
                page.mouse.up()
            page.locator(".jp-RatDetail").get_by_role("tab", name="Preview").click()
            expect(page.locator(".jp-RatGrid tbody tr")).to_have_count(4)
            for close in page.locator(".Toastify__close-button").all():
                close.click()
            expect(page.locator(".Toastify__toast")).to_have_count(0, timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "sidebar.png"))

            # The same in the dark theme (only JupyterLab's CSS variables are used).
            page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
            page.locator(".lm-Menu-itemLabel").get_by_text("JupyterLab Dark", exact=True).click()
            expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false", timeout=15_000)
            page.mouse.move(700, 450)
            expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "sidebar-dark.png"))
        finally:
            browser.close()


def test_table_files_and_compact(lab: Lab) -> None:
    """The detail shows the partitioning and file counts; Compact (confirmed) brings the counts down."""
    import pyarrow as pa
    from playwright.sync_api import expect, sync_playwright

    from ratatouille.config import Settings
    from ratatouille.session import Lakehouse

    lh = Lakehouse(Settings.for_home(lab.root.parent / "lakehouse"))
    for day in range(4):  # four appends of two regions: eight small files
        rows = pa.table({"id": [2 * day, 2 * day + 1], "region": ["north", "south"], "amount": [1.5, 2.5]})
        lh.write(rows, "bronze.events", partition_by=["region"])
    lh.close()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab.url}/lab/workspaces/compact/tree/scratch.ipynb?reset&token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            page.locator('.jp-SideBar [data-id="ratatouille-explorer"]').click()
            page.get_by_label("Filter tables").fill("events")
            page.get_by_test_id("rat-table-bronze.events").click()
            detail = page.locator(".jp-RatDetail")
            expect(detail.get_by_test_id("rat-partitioning")).to_have_text("Partitioned by region")
            counts = detail.get_by_test_id("rat-file-counts")
            expect(counts).to_have_text("8 files (8 small)", timeout=15_000)

            detail.get_by_role("button", name="Compact", exact=True).click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("Rewrite the 8 small files of main")
            dialog.locator(".jp-mod-accept").click()
            expect(counts).to_have_text("2 files (2 small)", timeout=30_000)
            outcome = detail.get_by_test_id("rat-compact-outcome")
            expect(outcome).to_contain_text("Compacted main: 8 → 2 files")
            expect(detail.locator(".jp-RatDetail-stats")).to_contain_text("8 rows")
            for close in page.locator(".Toastify__close-button").all():
                close.click()
            page.screenshot(path=str(ARTIFACTS / "sidebar-compact.png"))
            detail.get_by_role("tab", name="Snapshots").click()
            expect(detail.locator(".jp-RatTable tbody tr").first).to_contain_text("sidebar maintenance by")
        finally:
            browser.close()


def test_pipelines_panel_and_schedule_command(lab: Lab) -> None:
    """The Pipelines section lists the pipeline notebooks; the schedule command tags a notebook."""
    from playwright.sync_api import expect, sync_playwright

    home = lab.root.parent / "lakehouse"
    pipelines = home / "pipelines"
    pipelines.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "notebooks" / "pipelines" / "ingest_sales.ipynb", pipelines / "ingest_sales.ipynb")
    plain = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None}
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root / "nightly.ipynb").write_text(json.dumps(plain))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # A workspace of its own: the first test's layout (scratch.ipynb open) must not be restored.
            page.goto(f"{lab.url}/lab/workspaces/pipelines/tree/nightly.ipynb?reset&token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            page.locator('.jp-SideBar [data-id="ratatouille-pipelines"]').click()
            item = page.locator(".jp-RatPipelines-item", has_text="ingest_sales")
            expect(item).to_be_visible(timeout=30_000)

            # "Ratatouille: schedule this notebook" from the command palette, then the dialog.
            # The palette is opened from the View menu: Chromium may take Ctrl+Shift+C for itself.
            page.locator(".jp-Notebook").click()
            page.get_by_role("menuitem", name="View").click()
            page.get_by_role("menuitem", name="Activate Command Palette").click()
            # Fill the palette's own input once it shows: typing right away could reach the page before
            # the palette took the focus (on a loaded machine the filter then never saw the text).
            palette = page.locator(".lm-CommandPalette-input")
            expect(palette).to_be_visible(timeout=30_000)
            palette.fill("schedule this notebook")
            # Click the filtered entry once it shows (Enter right after typing raced the filter on a
            # loaded machine and ran nothing).
            command = page.locator(".lm-CommandPalette-item", has_text="schedule this notebook")
            expect(command.first).to_be_visible(timeout=30_000)
            command.first.click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_be_visible(timeout=30_000)
            dialog.get_by_label("Schedule (cron)").fill("0 6 * * *")
            dialog.get_by_label("Time zone").fill("Europe/Paris")
            page.screenshot(path=str(ARTIFACTS / "pipelines-dialog.png"))
            dialog.locator(".jp-mod-accept").click()
            expect(dialog).to_have_count(0, timeout=10_000)
            deadline = time.monotonic() + 20
            saved: dict[str, object] = {}
            while time.monotonic() < deadline:
                try:
                    meta = json.loads((lab.root / "nightly.ipynb").read_text())["metadata"]
                except json.JSONDecodeError:  # caught while the server writes the file
                    meta = {}
                saved = meta.get("ratatouille", {}).get("pipeline", {})
                if saved:
                    break
                time.sleep(0.3)
            assert saved.get("schedule") == "0 6 * * *" and saved.get("timezone") == "Europe/Paris", saved
            page.screenshot(path=str(ARTIFACTS / "pipelines-panel.png"))
        finally:
            browser.close()
