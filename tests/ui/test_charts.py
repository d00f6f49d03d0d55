"""Charts in a real browser: ``%%rat_sql chart=bar`` draws bars, and a result's Table | Chart toggle.

Runs a notebook on the sample lakehouse in JupyterLab with Debian's Chromium; saves
``test-artifacts/chart-bar.png`` (the image of ``docs/img/chart-bar.png``), ``chart-toggle.png`` and
``chart-timing.json`` (from running a 1,000,000-row chart cell to its bars on screen).
"""

from __future__ import annotations

import json

import pytest

from tests.ui.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Lab

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

BIG = (
    "%%rat_sql chart=bar x=region y=revenue color=channel\n"
    "SELECT ['north', 'south', 'east', 'west'][number % 4 + 1] AS region,\n"
    "       if(number % 3 = 0, 'web', 'store') AS channel,\n"
    "       round((number % 89) * (1 + (number % 4) * 0.35), 2) AS revenue\n"
    "FROM numbers(1000000)"
)
CELLS = [
    "%load_ext ratatouille",
    "%%rat_sql chart=bar x=region y=amount\n"
    "SELECT coalesce(region, 'none') AS region, amount FROM {bronze.sales}",
    BIG,
    "%%rat_sql\nSELECT * FROM {bronze.sales} ORDER BY id",
]
# Records when the third cell's chart output appears and when its eight bars are drawn.
TIMER = """() => {
  const times = { start: performance.now() };
  window.ratTimes = times;
  const observer = new MutationObserver(() => {
    const out = document.querySelectorAll('.jp-Notebook .jp-Cell')[2]?.querySelector('.jp-RenderedVegaLite');
    if (out && times.output === undefined) { times.output = performance.now(); }
    if (out && out.querySelectorAll('svg.marks g.mark-rect path').length >= 8) {
      times.bars = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, { subtree: true, childList: true });
}"""
BARS = ".vega-embed svg.marks g.mark-rect path"


def notebook(cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                for c in cells
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_chart_bar_draws_bars_and_the_toggle_charts_a_result(lab: Lab) -> None:
    from playwright.sync_api import expect, sync_playwright

    (lab.root / "charts.ipynb").write_text(notebook(CELLS))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab.url}/lab/workspaces/charts/tree/charts.ipynb?reset&token={lab.token}")
            expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            cells = page.locator(".jp-Notebook .jp-Cell")
            expect(cells).to_have_count(len(CELLS), timeout=30_000)
            # Run once the kernel is up: a cell run while it starts is not executed.
            expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
            cells.first.locator(".jp-InputPrompt").click()
            page.keyboard.press("Shift+Enter")  # %load_ext
            expect(cells.first.locator(".jp-InputPrompt")).to_contain_text("[1]", timeout=60_000)
            page.keyboard.press("Shift+Enter")  # the chart of bronze.sales
            small = cells.nth(1).locator(".jp-OutputArea-output")
            expect(small.locator(BARS)).to_have_count(3, timeout=60_000)  # north, south, none
            expect(small.locator(".vega-embed svg.marks")).to_contain_text("sum of amount by region")

            # A 1,000,000-row result: aggregated in the kernel, 8 bars drawn. The page times it: from the
            # run to the chart's output in the page, and from there to its bars on screen.
            page.evaluate(TIMER)
            page.keyboard.press("Shift+Enter")
            big = cells.nth(2).locator(".jp-RenderedVegaLite")
            expect(big.locator(BARS)).to_have_count(8, timeout=60_000)
            expect(big.locator(".vega-embed svg.marks")).to_contain_text(
                "1,000,000 rows aggregated to 8 bars"
            )
            times = page.evaluate("window.ratTimes")
            timing = {
                "rows": 1_000_000,
                "run_to_output_s": round((times["output"] - times["start"]) / 1000, 3),
                "output_to_bars_s": round((times["bars"] - times["output"]) / 1000, 3),
            }
            (ARTIFACTS / "chart-timing.json").write_text(json.dumps(timing))
            print(f"1,000,000-row chart cell: {timing}")
            for close in page.locator(".Toastify__close-button").all():
                close.click()
            cells.nth(2).screenshot(path=str(ARTIFACTS / "chart-bar.png"))

            # A table result: the toggle draws a chart of it, and goes back.
            page.keyboard.press("Shift+Enter")
            result = cells.nth(3).locator(".jp-RatResult")
            expect(result.locator(".jp-RatResult-table")).to_contain_text("4 rows", timeout=60_000)
            result.get_by_role("button", name="Chart").click()
            expect(result.locator(BARS)).to_have_count(3, timeout=30_000)
            expect(result.get_by_label("Kind")).to_have_value("bar")
            result.get_by_label("Kind").select_option("scatter")
            expect(result.locator(".vega-embed svg.marks g.mark-symbol path")).to_have_count(
                4, timeout=30_000
            )
            result.screenshot(path=str(ARTIFACTS / "chart-toggle.png"))
            result.get_by_role("button", name="Table").click()
            expect(result.locator(".jp-RatResult-table")).to_contain_text("north")
            expect(result.locator(".vega-embed")).to_have_count(0)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "chart-failure.png"))
            raise
        finally:
            browser.close()
