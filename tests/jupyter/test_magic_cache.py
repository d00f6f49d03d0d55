"""The snapshot cache in a notebook: the ``%%rat_sql`` footer names the tables it served, ``%rat_cache``
shows and clears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from ratatouille import rat
from ratatouille_jupyter.display import CacheView, ResultInfo, summary_line

QUERY = "SELECT region, sum(qty) AS q FROM {bronze.sales} GROUP BY region ORDER BY region"


@pytest.fixture
def sales(shell: Any) -> Iterator[Any]:
    """The shell, with ``bronze.sales`` and an empty snapshot cache (the engine is the process's)."""
    rat.ice_ingest_df(pd.DataFrame({"region": ["n", "s", "n"], "qty": [1, 2, 3]}), "bronze.sales")
    rat.cache_clear()
    yield shell
    rat.cache_clear()


@pytest.fixture
def cache_off(sales: Any) -> Iterator[Any]:
    """The cache turned off (``RAT_CACHE_MB=0``), its bound restored after the test."""
    cache = rat.session.engine.cache
    limit = cache.limit_bytes
    cache.set_limit(0)
    yield sales
    cache.set_limit(limit)


def footer(shell: Any, value: Any) -> tuple[str, str]:
    """The summary line of a result's text view, and its HTML view."""
    data = shell.display_formatter.format(value)[0]
    return data["text/plain"].split("\n", 1)[0], data["text/html"]


def test_the_footer_names_the_cached_snapshots(sales: Any) -> None:
    # The first run fills the cache and is served by it; the second reads it only.
    for _ in range(2):
        line, html = footer(sales, sales.run_cell_magic("rat_sql", "", QUERY))
        assert line.endswith(" · from cached snapshots (bronze.sales)")
        assert "from cached snapshots (bronze.sales)" in html
    assert "read 3 rows" in line
    line, _ = footer(sales, sales.run_line_magic("rat_sql", "SELECT 1 AS x"))
    assert "cached" not in line


def test_the_footer_says_nothing_when_the_cache_is_off(cache_off: Any) -> None:
    for _ in range(2):
        line, html = footer(cache_off, cache_off.run_cell_magic("rat_sql", "", QUERY))
        assert "read 3 rows" in line
        assert "cached" not in line and "cached" not in html
    assert rat.cache_info().entries == 0


def test_the_footer_names_a_few_tables() -> None:
    info = ResultInfo(cached=["a.x", "b.y", "a.x", "c.z", "d.w"], branch="dev")
    line = summary_line(1, ["n"], info)
    assert line.endswith(" · from cached snapshots (a.x, b.y, c.z, …) · branch dev")
    assert "cached" not in summary_line(1, ["n"], ResultInfo())


def test_rat_cache_shows_entries_and_hits(sales: Any) -> None:
    for _ in range(3):
        sales.run_cell_magic("rat_sql", "", QUERY)
    view = sales.run_line_magic("rat_cache", "")
    assert isinstance(view, CacheView)
    assert view.entries.columns.tolist() == ["table", "snapshot_id", "MB", "hits"]
    assert view.entries[["table", "hits"]].values.tolist() == [["bronze.sales", 2]]
    assert view.entries.snapshot_id[0] == rat.ice_history("bronze.sales").snapshot_id.iloc[-1]
    data = sales.display_formatter.format(view)[0]
    text = data["text/plain"].split("\n")
    assert text[0] == rat.cache_info().summary() and text[0].startswith("snapshot cache: 1 snapshot(s), ")
    assert "bronze.sales" in text[2] and len(text) == 3
    assert rat.cache_info().summary() in data["text/html"] and "<table" in data["text/html"]


def test_rat_cache_clear_empties_it(sales: Any) -> None:
    sales.run_cell_magic("rat_sql", "", QUERY)
    with capture_output() as said:
        assert sales.run_line_magic("rat_cache", "clear") is None
    assert said.stdout == "snapshot cache cleared: 1 snapshot dropped\n"
    view = sales.run_line_magic("rat_cache", "")
    assert view.entries.empty and rat.cache_info().entries == 0
    data = sales.display_formatter.format(view)[0]
    assert data["text/plain"] == rat.cache_info().summary() and "<table" not in data["text/html"]


def test_rat_cache_when_off(cache_off: Any) -> None:
    view = cache_off.run_line_magic("rat_cache", "")
    assert repr(view) == "snapshot cache off: RAT_CACHE_MB is 0"


@pytest.mark.parametrize("line", ["frobnicate", "clear now", "--clear"])
def test_rat_cache_bad_arguments(sales: Any, line: str) -> None:
    with pytest.raises(UsageError, match=r"^usage: %rat_cache \[clear\]$"):
        sales.run_line_magic("rat_cache", line)
