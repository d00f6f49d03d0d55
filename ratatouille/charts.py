"""Charts of query results as Vega-Lite specs, reduced before they are embedded.

A spec never carries the raw rows of a large result: bar, line and area charts sum ``y`` (or count
rows) per ``x`` (and ``color``) with pyarrow; a scatter keeps a random sample of at most
:data:`MAX_POINTS` rows; a histogram carries its bins, counted here. :attr:`Chart.note` says what was
done, and the spec shows it under its title. JupyterLab renders the spec natively (its Vega extension
reads :data:`VEGALITE_MIME`), and the notebook keeps it.

:func:`result_sample` is what a result's Table/Chart toggle charts: the columns, their types and at
most :data:`MAX_SAMPLE_ROWS` rows (a random sample of a larger result), with a note.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InvalidInput
from .frames import to_arrow

KINDS = ("bar", "line", "area", "scatter", "histogram")
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
RESULT_MIME = "application/vnd.ratatouille.result+json"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: Points a scatter, line or area chart embeds at most.
MAX_POINTS = 5000
#: Bars a bar chart shows at most (the largest).
MAX_BARS = 100
#: Bins of a histogram.
BINS = 30
#: Rows (and cells) a result's chart sample carries at most.
MAX_SAMPLE_ROWS = 5000
MAX_SAMPLE_CELLS = 50_000
_SEED = 0


@dataclass
class Chart:
    """A Vega-Lite chart of a result.

    Attributes:
        spec: The Vega-Lite v5 spec, data inline.
        note: What was done to the rows before charting ('' when they are charted as they are).
        rows: Rows of the result.
        points: Rows the spec embeds.
    """

    spec: dict[str, Any]
    note: str = ""
    rows: int = 0
    points: int = 0
    kind: str = "bar"
    encoding: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """One line for terminals and logs: ``bar chart of 1,000,000 rows: sum of revenue by region``."""
        title = self.spec.get("title", {}).get("text", "")
        line = f"{self.kind} chart of {self.rows:,} rows: {title}"
        return f"{line} ({self.note})" if self.note else line

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {VEGALITE_MIME: self.spec, "text/plain": self.text()}

    def __repr__(self) -> str:
        return self.text()


def chart(
    data: Any, kind: str, x: str | None = None, y: str | None = None, color: str | None = None
) -> Chart:
    """A Vega-Lite chart of a result (an Arrow table or a DataFrame).

    Args:
        data: The result.
        kind: ``bar``, ``line``, ``area``, ``scatter`` or ``histogram``.
        x: The column along x (for a histogram: the column whose values are counted).
        y: The numeric column summed per x (bar, line, area; without it rows are counted), or the
            column along y (scatter, required). A histogram takes none.
        color: A column whose values split the marks by color.

    Raises:
        InvalidInput: An unknown kind or column, or a column that cannot play its part (with the choices).
    """
    table = to_arrow(data)
    kind = _kind(kind)
    columns = table.column_names
    if x is None:
        raise InvalidInput(f"a {kind} chart needs x= (a column: {_listing(columns)})")
    x = _column(x, columns, "x")
    y = _column(y, columns, "y") if y is not None else None
    color = _column(color, columns, "color") if color is not None else None
    if kind == "scatter" and y is None:
        raise InvalidInput(f"a scatter chart needs y= (a column: {_listing(columns)})")
    if kind == "histogram" and y is not None:
        raise InvalidInput("a histogram counts the values of x: leave out y=")
    if kind in ("bar", "line", "area") and y is not None and not _numeric(table.schema.field(y).type):
        raise InvalidInput(
            f"y={y} is summed per x, so it must be numeric (it is {table.schema.field(y).type})"
        )
    if kind == "histogram" and not _numeric(table.schema.field(x).type):
        raise InvalidInput(f"a histogram needs a numeric x (x={x} is {table.schema.field(x).type})")
    if kind == "histogram":
        return _histogram(table, x, color)
    if kind == "scatter":
        assert y is not None
        return _scatter(table, x, y, color)
    return _aggregated(table, kind, x, y, color)


def result_sample(data: Any) -> dict[str, Any]:
    """What a result's Table/Chart toggle charts: columns, types and a capped sample of rows.

    Returns:
        ``{"columns": [{"name", "type", "vl"}], "rows": [{...}], "total": n, "note": str}``: ``vl`` is
        the column's Vega-Lite type (quantitative, temporal or nominal); ``note`` says when the rows
        are a random sample.
    """
    total, width = len(data), len(data.columns) if isinstance(data, pd.DataFrame) else data.num_columns
    cap = max(1, min(MAX_SAMPLE_ROWS, MAX_SAMPLE_CELLS // max(1, width)))
    note = ""
    if total > cap:
        data = data.take(_picks(total, cap))  # a DataFrame is sampled before it is converted
        note = f"charted a random sample of {cap:,} of {total:,} rows"
    table = to_arrow(data)
    columns = [{"name": f.name, "type": str(f.type), "vl": _vl_type(f.type)} for f in table.schema]
    return {"version": 1, "columns": columns, "rows": _records(table), "total": total, "note": note}


# -- the kinds -----------------------------------------------------------------------------------------


def _aggregated(table: pa.Table, kind: str, x: str, y: str | None, color: str | None) -> Chart:
    keys = [x] + ([color] if color and color != x else [])
    value = f"sum of {y}" if y else "count"
    if y is None:
        grouped = table.select(keys).group_by(keys).aggregate([([], "count_all")])
        grouped = _rename(grouped, "count_all", value)
    else:
        picked = table.select(list(dict.fromkeys([*keys, y])))
        grouped = picked.group_by(keys).aggregate([(y, "sum")])
        grouped = _rename(grouped, f"{y}_sum", value)
    groups = grouped.num_rows
    notes = []
    if groups < table.num_rows:
        notes.append(
            f"{table.num_rows:,} rows aggregated to {groups:,} {'bars' if kind == 'bar' else 'points'}"
        )
    if kind == "bar" and groups > MAX_BARS:
        totals = grouped.group_by([x], use_threads=False).aggregate([(value, "sum")]) if color else grouped
        largest = pc.select_k_unstable(
            totals, k=MAX_BARS, sort_keys=[(f"{value}_sum" if color else value, "descending")]
        )
        top = pc.take(totals.column(x), largest)
        grouped = grouped.filter(pc.is_in(grouped.column(x), value_set=top))
        notes.append(f"the {MAX_BARS} largest of {totals.num_rows:,} {x} values")
    elif kind != "bar":
        grouped = grouped.sort_by([(x, "ascending")] + ([(color, "ascending")] if color else []))
        if grouped.num_rows > MAX_POINTS:
            step = math.ceil(grouped.num_rows / MAX_POINTS)
            grouped = grouped.take(pa.array(range(0, grouped.num_rows, step)))
            notes.append(f"every {step}th point kept")
    x_type = table.schema.field(x).type
    x_vl = _vl_type(x_type)
    if kind == "bar" or x_vl == "nominal":
        x_enc: dict[str, Any] = {"field": x, "type": "ordinal" if x_vl == "quantitative" else "nominal"}
        if kind == "bar":
            x_enc["sort"] = "-y"
        x_enc["axis"] = {"labelAngle": 0 if grouped.num_rows <= 12 else -45}
    else:
        x_enc = {"field": x, "type": x_vl}
    encoding: dict[str, Any] = {"x": x_enc, "y": {"field": value, "type": "quantitative", "title": value}}
    if color:
        encoding["color"] = {"field": color, "type": _vl_type(table.schema.field(color).type)}
    encoding["tooltip"] = [{"field": c, "type": e["type"]} for c, e in _tooltips(encoding)]
    mark: dict[str, Any] = {"type": kind, "tooltip": True}
    if kind == "line":
        mark["point"] = grouped.num_rows <= 50
    note = "; ".join(notes)
    spec = _spec(f"{value} by {x}", note, mark, encoding, grouped)
    return Chart(spec, note, table.num_rows, grouped.num_rows, kind, _encoding(x, y, color))


def _scatter(table: pa.Table, x: str, y: str, color: str | None) -> Chart:
    rows = table.num_rows
    data = table.select(list(dict.fromkeys([c for c in (x, y, color) if c])))
    note = ""
    if rows > MAX_POINTS:
        data = _sample(data, MAX_POINTS)
        note = f"a random sample of {MAX_POINTS:,} of {rows:,} rows"
    encoding: dict[str, Any] = {
        "x": {"field": x, "type": _vl_type(table.schema.field(x).type)},
        "y": {"field": y, "type": _vl_type(table.schema.field(y).type)},
    }
    if color:
        encoding["color"] = {"field": color, "type": _vl_type(table.schema.field(color).type)}
    encoding["tooltip"] = [{"field": c, "type": e["type"]} for c, e in _tooltips(encoding)]
    mark = {"type": "point", "tooltip": True, "filled": True, "opacity": 0.7 if data.num_rows > 500 else 1}
    spec = _spec(f"{y} by {x}", note, mark, encoding, data)
    return Chart(spec, note, rows, data.num_rows, "scatter", _encoding(x, y, color))


def _histogram(table: pa.Table, x: str, color: str | None) -> Chart:
    rows = table.num_rows
    values = table.column(x)
    if pa.types.is_decimal(values.type):
        values = values.cast(pa.float64())
    valid = pc.is_valid(values)
    if pa.types.is_floating(values.type):
        valid = pc.and_(valid, pc.invert(pc.is_nan(values)))
    numbers = pc.filter(values, valid).to_numpy(zero_copy_only=False).astype("float64", copy=False)
    lo, hi = (float(numbers.min()), float(numbers.max())) if len(numbers) else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / BINS
    bins = np.minimum(((numbers - lo) / width).astype("int64"), BINS - 1)
    labels: list[Any] = [None]
    if color:
        encoded = pc.filter(table.column(color), valid).combine_chunks().dictionary_encode("encode")
        labels = [_plain(v) for v in encoded.dictionary.to_pylist()] + [None]
        codes = encoded.indices.fill_null(len(labels) - 1).to_numpy(zero_copy_only=False)
        bins = codes.astype("int64") * BINS + bins
    counts = np.bincount(bins, minlength=len(labels) * BINS).reshape(-1, BINS)
    records: list[dict[str, Any]] = []
    for label, row in zip(labels, counts.tolist(), strict=True):
        if color and not any(row):
            continue
        for i, count in enumerate(row):
            record: dict[str, Any] = {
                "bin_start": lo + i * width,
                "bin_end": lo + (i + 1) * width,
                "count": count,
            }
            if color:
                record[color] = label
            records.append(record)
    missing = rows - len(numbers)
    note = f"{rows:,} values counted in {BINS} bins" if rows > BINS else ""
    if missing:
        note += ("; " if note else "") + f"{missing:,} empty values left out"
    encoding: dict[str, Any] = {
        "x": {"field": "bin_start", "type": "quantitative", "bin": {"binned": True}, "title": x},
        "x2": {"field": "bin_end"},
        "y": {"field": "count", "type": "quantitative", "title": "count"},
    }
    if color:
        encoding["color"] = {"field": color, "type": _vl_type(table.schema.field(color).type)}
        encoding["y"]["stack"] = True
    encoding["tooltip"] = [
        {"field": "bin_start", "type": "quantitative", "title": f"{x} from", "format": ".4~g"},
        {"field": "bin_end", "type": "quantitative", "title": "to", "format": ".4~g"},
        {"field": "count", "type": "quantitative"},
    ] + ([{"field": color, "type": encoding["color"]["type"]}] if color else [])
    spec = _spec(f"distribution of {x}", note, {"type": "bar", "tooltip": True}, encoding, None)
    spec["data"] = {"values": records}
    return Chart(spec, note, rows, len(records), "histogram", _encoding(x, None, color))


# -- helpers -------------------------------------------------------------------------------------------


def _spec(
    title: str, note: str, mark: dict[str, Any], encoding: dict[str, Any], data: pa.Table | None
) -> dict[str, Any]:
    heading: dict[str, Any] = {"text": title, "anchor": "start"}
    if note:
        heading["subtitle"] = note
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": heading,
        "width": 600,
        "height": 300,
        "mark": mark,
        "encoding": encoding,
        "data": {"values": _records(data) if data is not None else []},
    }
    return spec


def _tooltips(encoding: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(encoding[c]["field"], encoding[c]) for c in ("x", "y", "color") if c in encoding]


def _encoding(x: str, y: str | None, color: str | None) -> dict[str, str]:
    return {k: v for k, v in (("x", x), ("y", y), ("color", color)) if v}


def _rename(table: pa.Table, old: str, new: str) -> pa.Table:
    return table.rename_columns([new if c == old else c for c in table.column_names])


def _sample(table: pa.Table, n: int) -> pa.Table:
    """``n`` rows drawn uniformly without replacement, kept in their order (the same ones every time)."""
    return table.take(pa.array(_picks(table.num_rows, n)))


def _picks(total: int, n: int) -> np.ndarray:
    return np.sort(np.random.default_rng(_SEED).choice(total, size=n, replace=False))


def _records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: dates and times as ISO text, decimals as floats, NaN as null."""
    arrays = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        arrays[name] = _jsonable(column)
    names = list(arrays)
    values = [arrays[n] for n in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _jsonable(column: pa.ChunkedArray) -> list[Any]:
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = column.type
    if pa.types.is_timestamp(t):
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S").to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_date(t):
        return pc.strftime(column, format="%Y-%m-%d").to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_decimal(t):
        column = column.cast(pa.float64())
        t = column.type
    if pa.types.is_floating(t):
        return [None if v is None or math.isnan(v) or math.isinf(v) else v for v in column.to_pylist()]
    if (
        pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
    ):
        return column.to_pylist()  # type: ignore[no-any-return]
    return [_plain(v) for v in column.to_pylist()]


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _vl_type(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if _numeric(t):
        return "quantitative"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "temporal"
    return "nominal"


def _kind(kind: str) -> str:
    if kind not in KINDS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InvalidInput(f"chart kind {kind!r} is not one of: {', '.join(KINDS)}{hint}")
    return kind


def _column(name: str, columns: list[str], role: str) -> str:
    if name not in columns:
        close = difflib.get_close_matches(name, columns, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InvalidInput(f"{role}={name}: no such column{hint}; the columns are: {_listing(columns)}")
    return name


def _listing(columns: list[str], most: int = 30) -> str:
    shown = ", ".join(columns[:most])
    return shown + (f", … ({len(columns)} in all)" if len(columns) > most else "") if columns else "(none)"
