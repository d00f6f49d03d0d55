"""DataFrame helpers: conversion to Arrow for writes, NULL profiling and explicit cleaning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from .errors import InvalidInput

#: Strings that mean "no value" wherever they appear. "NA" is not here: it is a country code and a
#: region name in real data; pass it in ``extra_markers`` when a file uses it for missing values.
DEFAULT_NULL_MARKERS: tuple[str, ...] = ("", "NULL", "null", "None", "NaN", "nan", "N/A", "n/a", "#N/A")


def to_arrow(data: Any) -> pa.Table:
    """A pandas DataFrame, Arrow table or record batch as an Arrow table.

    A DataFrame's index is dropped unless it carries names.
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pd.DataFrame):
        if any(not isinstance(c, str) for c in data.columns):
            raise InvalidInput("column names must be strings (got non-string column labels)")
        if data.columns.duplicated().any():
            dup = data.columns[data.columns.duplicated()][0]
            raise InvalidInput(f"column {dup!r} appears more than once")
        keep_index = any(n is not None for n in data.index.names)
        try:
            return pa.Table.from_pandas(data, preserve_index=keep_index)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise InvalidInput(f"cannot convert the DataFrame: {e} (a column mixes types?)") from e
    raise InvalidInput(f"expected a pandas DataFrame or an Arrow table, got {type(data).__name__}")


def nulls(df: pd.DataFrame) -> pd.DataFrame:
    """Per column: NULL count, NULL share, and how many strings look like NULL markers."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidInput(f"expected a pandas DataFrame, got {type(df).__name__}")
    rows = []
    for col in df.columns:
        series = df[col]
        null_count = int(series.isna().sum())
        markers = 0
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            stripped = series.dropna().astype(str).str.strip()
            markers = int(stripped.isin(DEFAULT_NULL_MARKERS).sum())
        rows.append({
            "column": col,
            "nulls": null_count,
            "null_pct": round(100.0 * null_count / len(df), 2) if len(df) else 0.0,
            "null_like_strings": markers,
            "dtype": str(series.dtype),
        })  # fmt: skip
    return pd.DataFrame(rows)


def clean(
    df: pd.DataFrame,
    markers: Iterable[str] | None = None,
    columns: Iterable[str] | None = None,
    extra_markers: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Turn null-like strings into missing values; return a new DataFrame.

    Only text columns change, and only cells whose whole (trimmed) text is a marker: ``"N/A"`` becomes
    missing, ``"N/A today"`` does not.

    Args:
        df: The data.
        markers: The strings that mean missing, *instead of* :data:`DEFAULT_NULL_MARKERS` (the defaults
            when omitted).
        columns: Limit cleaning to these columns.
        extra_markers: Strings that mean missing *as well as* the markers (``extra_markers=["NA"]``
            keeps every default and adds ``"NA"``).

    Raises:
        InvalidInput: Not a DataFrame, an unknown column, or markers given as one string.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInput(f"expected a pandas DataFrame, got {type(df).__name__}")
    for name, given in (("markers", markers), ("extra_markers", extra_markers)):
        if isinstance(given, str):
            raise InvalidInput(f"{name} is a list of strings: write {name}=[{given!r}]")
    wanted = set(DEFAULT_NULL_MARKERS if markers is None else markers) | set(extra_markers or ())
    out = df.copy()
    for col in columns if columns is not None else out.columns:
        if col not in out.columns:
            raise InvalidInput(f"no column {col!r} (columns: {', '.join(map(str, out.columns))})")
        series = out[col]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            continue
        mask = series.map(lambda v: isinstance(v, str) and v.strip() in wanted)
        out[col] = series.mask(mask.astype(bool))
    return out
