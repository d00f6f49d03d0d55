"""Charts of results: Vega-Lite specs, the reduction of large results, and the errors."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ratatouille import Rat
from ratatouille.charts import MAX_BARS, MAX_POINTS, MAX_SAMPLE_ROWS, VEGALITE_MIME, chart, result_sample
from ratatouille.errors import InvalidInput

SALES = pa.table(
    {
        "region": ["north", "south", "north", "east", None],
        "revenue": [10.0, 20.0, 5.0, 1.5, 2.0],
        "day": [dt.date(2024, 1, d) for d in (1, 1, 2, 3, 3)],
        "qty": pa.array([1, 2, 3, 4, 5], pa.int64()),
    }
)


def big(n: int = 200_000) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "region": rng.choice(["north", "south", "east"], n),
            "revenue": rng.random(n),
            "id": np.arange(n),
            "ts": pa.array(np.datetime64("2024-01-01T00:00") + (np.arange(n) * 60).astype("timedelta64[s]")),
        }
    )


def by(spec: dict, field: str) -> dict:
    return {r[field]: r for r in spec["data"]["values"]}


def test_bar_sums_y_per_x() -> None:
    c = chart(SALES, "bar", x="region", y="revenue")
    assert c.spec["$schema"].endswith("vega-lite/v5.json")
    assert c.spec["mark"]["type"] == "bar"
    assert c.spec["encoding"]["x"] == {
        "field": "region",
        "type": "nominal",
        "sort": "-y",
        "axis": {"labelAngle": 0},
    }
    assert c.spec["encoding"]["y"]["field"] == "sum of revenue"
    rows = by(c.spec, "region")
    assert rows["north"]["sum of revenue"] == 15.0
    assert rows[None]["sum of revenue"] == 2.0
    assert c.note == "5 rows aggregated to 4 bars"
    assert c.spec["title"] == {"text": "sum of revenue by region", "anchor": "start", "subtitle": c.note}
    json.dumps(c.spec, allow_nan=False)


def test_bar_without_y_counts_rows_and_color_splits() -> None:
    c = chart(SALES, "bar", x="day", color="region")
    assert c.spec["encoding"]["y"]["field"] == "count"
    assert c.spec["encoding"]["color"]["field"] == "region"
    values = c.spec["data"]["values"]
    assert {"day": "2024-01-01", "region": "north", "count": 1} in values
    assert sum(v["count"] for v in values) == 5


def test_line_and_area_sort_by_x_with_temporal_axis() -> None:
    for kind in ("line", "area"):
        c = chart(SALES, kind, x="day", y="qty")
        assert c.spec["mark"]["type"] == kind
        assert c.spec["encoding"]["x"] == {"field": "day", "type": "temporal"}
        assert [v["day"] for v in c.spec["data"]["values"]] == ["2024-01-01", "2024-01-02", "2024-01-03"]
        assert [v["sum of qty"] for v in c.spec["data"]["values"]] == [3, 3, 9]


def test_scatter_keeps_small_results_whole_and_samples_large_ones() -> None:
    small = chart(SALES, "scatter", x="qty", y="revenue", color="region")
    assert small.points == 5 and small.note == ""
    assert small.spec["mark"]["type"] == "point"
    large = chart(big(), "scatter", x="id", y="revenue")
    assert large.points == MAX_POINTS == len(large.spec["data"]["values"])
    assert large.note == f"a random sample of {MAX_POINTS:,} of 200,000 rows"
    ids = [v["id"] for v in large.spec["data"]["values"]]
    assert ids == sorted(ids) and len(set(ids)) == MAX_POINTS
    assert chart(big(), "scatter", x="id", y="revenue").spec == large.spec  # the same sample every time


def test_histogram_embeds_bins_not_rows() -> None:
    c = chart(big(), "histogram", x="revenue", color="region")
    values = c.spec["data"]["values"]
    assert len(values) == 3 * 30
    assert sum(v["count"] for v in values) == 200_000
    assert set(values[0]) == {"bin_start", "bin_end", "count", "region"}
    assert c.spec["encoding"]["x"]["bin"] == {"binned": True}
    assert c.note == "200,000 values counted in 30 bins"
    assert (
        chart(pa.table({"v": [1.0, None, float("nan")]}), "histogram", x="v").note
        == "2 empty values left out"
    )
    assert (
        sum(v["count"] for v in chart(pa.table({"v": [3, 3]}), "histogram", x="v").spec["data"]["values"])
        == 2
    )


def test_large_results_are_reduced_with_a_note() -> None:
    table = big()
    bar = chart(table, "bar", x="region", y="revenue")
    assert bar.points == 3 and bar.note == "200,000 rows aggregated to 3 bars"
    many = chart(table, "bar", x="id", y="revenue")
    assert many.points == MAX_BARS
    assert many.note == f"the {MAX_BARS} largest of 200,000 id values"
    line = chart(table, "line", x="ts", y="revenue")
    assert line.points <= MAX_POINTS
    assert "every 40th point kept" in line.note
    assert line.spec["data"]["values"][0]["ts"] == "2024-01-01T00:00:00"


def test_a_dataframe_works_too() -> None:
    c = chart(pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]}), "bar", x="k", y="v")
    assert by(c.spec, "k")["a"]["sum of v"] == 4


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("pie", {"x": "region"}, "chart kind 'pie' is not one of: bar, line, area, scatter, histogram"),
        ("bars", {"x": "region"}, "(did you mean bar?)"),
        (
            "bar",
            {"x": "regin"},
            "x=regin: no such column (did you mean region?); the columns are: region, revenue",
        ),
        ("bar", {}, "a bar chart needs x="),
        ("bar", {"x": "region", "y": "nope"}, "y=nope: no such column"),
        ("bar", {"x": "region", "color": "nope"}, "color=nope: no such column"),
        ("bar", {"x": "day", "y": "region"}, "y=region is summed per x, so it must be numeric"),
        ("scatter", {"x": "qty"}, "a scatter chart needs y="),
        ("histogram", {"x": "region"}, "a histogram needs a numeric x"),
        ("histogram", {"x": "qty", "y": "revenue"}, "leave out y="),
    ],
)
def test_errors_say_what_is_accepted(kind: str, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        chart(SALES, kind, **kwargs)
    assert message in str(e.value)


def test_chart_displays_as_vega_lite() -> None:
    bundle = chart(SALES, "bar", x="region")._repr_mimebundle_()
    assert set(bundle) == {VEGALITE_MIME, "text/plain"}
    assert bundle["text/plain"] == "bar chart of 5 rows: count by region (5 rows aggregated to 4 bars)"


def test_result_sample_caps_rows_and_cells() -> None:
    small = result_sample(SALES)
    assert small["total"] == 5 and small["note"] == "" and len(small["rows"]) == 5
    assert small["columns"][2] == {"name": "day", "type": "date32[day]", "vl": "temporal"}
    assert small["rows"][0] == {"region": "north", "revenue": 10.0, "day": "2024-01-01", "qty": 1}
    large = result_sample(big())
    assert len(large["rows"]) == MAX_SAMPLE_ROWS
    assert large["note"] == f"charted a random sample of {MAX_SAMPLE_ROWS:,} of 200,000 rows"
    wide = result_sample(pa.table({f"c{i}": list(range(10_000)) for i in range(50)}))
    assert len(wide["rows"]) == 1000


def test_rat_chart_runs_sql_or_takes_a_result(rat: Rat) -> None:
    c = rat.chart("SELECT id, qty FROM {bronze.sales}", "bar", x="id", y="qty")
    assert {v["id"]: v["sum of qty"] for v in c.spec["data"]["values"]} == {1: 1, 2: 2, 3: 3}
    assert rat.chart("bronze.sales", "histogram", x="qty").rows == 3
    assert rat.chart(rat.df("bronze.sales"), "scatter", x="id", y="qty").points == 3
    with pytest.raises(InvalidInput, match="the columns are: id, qty"):
        rat.chart("bronze.sales", "bar", x="amount")
