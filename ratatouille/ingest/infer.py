"""Type inference and conversion of raw columns, the rules of docs/ingestion.md ("Types you can trust").

A raw column is one of three things: an Arrow string array (CSV/TSV text), a Python list (Excel and JSON
cells), or a typed Arrow array (Parquet, custom parsers). :func:`infer` gives the narrowest type that
holds every value; :func:`convert` turns a raw column into a given type or raises :class:`Misfit`.

The inferred types form a small lattice that only widens: int64 < float64, date32 < timestamp, and
everything < string. Null markers count as NULL in numeric and temporal columns only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from ..frames import DEFAULT_NULL_MARKERS
from .options import ColumnType

#: Strings that are NULL in a column that is otherwise numeric or temporal (never in a text column).
NULL_MARKERS: tuple[str, ...] = (
    *DEFAULT_NULL_MARKERS,
    "NA",
    "na",
    "<NA>",
    "-",
    "--",
    "#NA",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#NULL!",
)
STRING = pa.string()
INT = pa.int64()
FLOAT = pa.float64()
DATE = pa.date32()
TIMESTAMP = pa.timestamp("us")
TIMESTAMPTZ = pa.timestamp("us", tz="UTC")
Raw: TypeAlias = "pa.Array | pa.ChunkedArray | list[Any]"


class Misfit(Exception):
    """A value does not fit the column's type.

    Attributes:
        index: Its position in the raw column.
        value: The value.
    """

    def __init__(self, index: int, value: object) -> None:
        super().__init__(f"value {value!r} at {index}")
        self.index = index
        self.value = value


def widen(a: pa.DataType | None, b: pa.DataType | None) -> pa.DataType | None:
    """The narrowest inferred type holding values of both types."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    pair = {a, b}
    if pair <= {pa.int32(), INT}:
        return INT
    if pair <= {pa.int32(), INT, pa.float32(), FLOAT}:
        return FLOAT
    if pair == {DATE, TIMESTAMP}:
        return TIMESTAMP
    return STRING


def _is_text(raw: Raw) -> bool:
    return isinstance(raw, pa.Array | pa.ChunkedArray) and (
        pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)
    )


# -- inference ------------------------------------------------------------------------------------------


def infer(raw: Raw, text_markers: Sequence[str] = (), excel: bool = False) -> pa.DataType | None:
    """The narrowest type holding every value of a raw column; None when all are NULL or markers."""
    if isinstance(raw, list):
        return _infer_values(raw, excel)
    if _is_text(raw):
        return _infer_text(raw, numbers=True)
    if pa.types.is_null(raw.type):
        return None
    from ..arrowtypes import storable_type

    return storable_type(raw.type)


def _non_markers(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(arr)
    keep = pc.invert(pc.is_in(trimmed, value_set=pa.array(NULL_MARKERS)))
    return pc.filter(trimmed, pc.fill_null(keep, False))


def _casts(arr: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray | None:
    # A failing cast reads the whole column before it fails: try the head first, which rejects
    # text columns at once; only a column whose head passes is cast whole.
    if len(arr) > 4096:
        try:
            pc.cast(arr.slice(0, 1024), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    try:
        return pc.cast(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _infer_text(arr: pa.Array | pa.ChunkedArray, numbers: bool) -> pa.DataType | None:
    if len(arr) > 8192 and _infer_all(arr.slice(0, 2048), numbers) == STRING:
        return STRING  # text in the first rows: no later row can make the column a number or a date
    if numbers and (ints := _casts(arr, INT)) is not None:
        return INT if _round_trips(ints, arr) else STRING  # a clean integer column: no markers to drop
    return _infer_all(arr, numbers)


def _infer_all(arr: pa.Array | pa.ChunkedArray, numbers: bool) -> pa.DataType | None:
    vals = _non_markers(arr)
    if len(vals) == 0:
        return None
    if numbers:
        if pc.all(pc.is_in(pc.utf8_lower(vals), value_set=pa.array(["true", "false"]))).as_py():
            return pa.bool_()
        if (ints := _casts(vals, INT)) is not None:
            # Only when every value is written as its integer would be: "007", "+5" and "0x1F" are codes.
            return INT if _round_trips(ints, vals) else STRING
        if _casts(vals, FLOAT) is not None and not _has_letters(vals):
            return FLOAT
    if _casts(vals, DATE) is not None:
        return DATE
    if _casts(vals, TIMESTAMP) is not None or _casts(vals, pa.timestamp("ns")) is not None:
        return TIMESTAMP
    if _casts(vals, TIMESTAMPTZ) is not None or _casts(vals, pa.timestamp("ns", tz="UTC")) is not None:
        return TIMESTAMPTZ
    return STRING


def _round_trips(ints: pa.Array | pa.ChunkedArray, texts: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.all(pc.equal(pc.cast(ints, STRING), texts)).as_py())


def _has_letters(vals: pa.Array | pa.ChunkedArray) -> bool:
    # "inf", "nan" and "infinity" parse as floats but are words here; exponents ("1e5") are not letters.
    return bool(pc.any(pc.match_substring_regex(vals, "[A-DF-Za-df-z]")).as_py())


def _kind(v: Any, excel: bool) -> pa.DataType | None:
    t = type(v)
    if t is bool:
        return pa.bool_()
    if t is int:
        return INT
    if t is float or t is Decimal:
        return INT if excel and float(v).is_integer() else FLOAT
    if t is dt.datetime:
        if v.tzinfo is not None:
            return TIMESTAMPTZ
        midnight = v.hour == v.minute == v.second == v.microsecond == 0
        return DATE if excel and midnight else TIMESTAMP
    if t is dt.date:
        return DATE
    return STRING


def _infer_values(values: list[Any], excel: bool) -> pa.DataType | None:
    found: pa.DataType | None = None
    strings: list[str] = []
    for v in values:
        if v is None:
            continue
        if type(v) is str:
            strings.append(v)
            continue
        found = widen(found, _kind(v, excel))
        if found == STRING:
            return STRING
    if strings:
        # Text cells are text: only ISO dates and timestamps in them get a type (JSON has no date type).
        found = widen(found, _infer_text(pa.array(strings, STRING), numbers=False))
    return found


def kept_text(raw: Raw, text_markers: Sequence[str]) -> bool:
    """True when a column typed NULL so far holds strings a text column would keep (``""``, ``"NA"``)."""
    if isinstance(raw, list):
        return any(type(v) is str and v not in text_markers for v in raw)
    if not _is_text(raw):
        return False
    keep = pc.invert(pc.is_in(raw, value_set=pa.array(list(text_markers), STRING)))
    return bool(pc.any(pc.and_kleene(pc.is_valid(raw), keep)).as_py())


# -- conversion -----------------------------------------------------------------------------------------


def convert(raw: Raw, target: ColumnType, text_markers: Sequence[str], strict: bool) -> pa.Array:
    """Convert a raw column to ``target``.

    Args:
        raw: The raw column.
        target: The type (and optional ``strptime`` format).
        text_markers: Strings that become NULL in a text column.
        strict: The type was inferred: a value must be written exactly as the type writes it (no "007"
            in an integer column). Declared and table types are converted leniently.

    Raises:
        Misfit: A value does not fit.
    """
    if isinstance(raw, list):
        return _convert_values(raw, target, text_markers, strict)
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if _is_text(raw):
        return _convert_text(raw, target, text_markers, strict)
    try:
        return pc.cast(raw, target.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _find_misfit(raw.to_pylist(), lambda v: pa.array([v]).cast(target.type)) from None


def _convert_text(arr: pa.Array, target: ColumnType, text_markers: Sequence[str], strict: bool) -> pa.Array:
    t = target.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if not text_markers:
            return arr
        return pc.if_else(pc.is_in(arr, value_set=pa.array(list(text_markers), STRING)), None, arr)
    try:
        # Fast path for clean columns (no blanks, markers or padding): parse the text as it is.
        fast = _parse_text(arr, target, strict)
        if fast is not None:
            return fast
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(arr)
    markers = pa.array(list({*NULL_MARKERS, *text_markers}), STRING)
    vals = pc.if_else(pc.fill_null(pc.is_in(trimmed, value_set=markers), True), None, trimmed)
    try:
        out = _parse_text(vals, target, strict)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = None
    if out is None:
        raise _find_misfit(vals.to_pylist(), lambda v: _parse_text(pa.array([v], STRING), target, strict))
    return out


def _parse_text(vals: pa.Array, target: ColumnType, strict: bool) -> pa.Array | None:
    """Parse text; None (or an Arrow error) when a value does not fit."""
    t = target.type
    if pa.types.is_boolean(t):
        low = pc.utf8_lower(vals)
        if strict and pc.any(pc.invert(pc.is_in(low, value_set=pa.array(["true", "false"])))).as_py():
            return None
        return pc.cast(low, t)
    if pa.types.is_integer(t):
        out = pc.cast(vals, t)
        return out if not strict or _round_trips(out, vals) else None
    if pa.types.is_floating(t):
        if _has_letters(vals.drop_null()):
            return None
        return pc.cast(vals, t)
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        return _parse_temporal(vals, target)
    return pc.cast(vals, t)


def _parse_temporal(vals: pa.Array, target: ColumnType) -> pa.Array:
    t = target.type
    if target.format:
        unit = "us" if not pa.types.is_date(t) else "s"
        parsed = pc.strptime(vals, format=target.format, unit=unit, error_is_null=False)
        return parsed.cast(t)
    if pa.types.is_date(t):
        return pc.cast(vals, t)
    tz = t.tz
    for unit in ("us", "ns"):
        try:
            # Iceberg keeps microseconds: nanosecond digits are dropped (floor), documented.
            return pc.cast(vals, pa.timestamp(unit, tz=tz)).cast(t, safe=False)
        except pa.ArrowInvalid:
            continue
    if tz is not None:
        # A timestamptz column declared or in the table: naive text is taken as UTC.
        naive = pc.cast(vals, pa.timestamp("us"))
        return pc.assume_timezone(naive, "UTC").cast(t)
    raise pa.ArrowInvalid("not a timestamp")


def _find_misfit(values: list[Any], check: Any) -> Misfit:
    for i, v in enumerate(values):
        if v is None:
            continue
        try:
            out = check(v)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError, TypeError):
            return Misfit(i, v)
        if out is None:
            return Misfit(i, v)
    return Misfit(0, values[0] if values else None)


def _text_of(v: Any, excel: bool) -> str:
    if type(v) is float and excel and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _convert_values(
    values: list[Any], target: ColumnType, text_markers: Sequence[str], strict: bool
) -> pa.Array:
    t = target.type
    excel = True  # integral floats read as integers: Excel stores every number as a double
    if pa.types.is_string(t):
        marks = set(text_markers)
        return pa.array(
            [None if v is None or (type(v) is str and v in marks) else _text_of(v, excel) for v in values], t
        )
    markers = {*NULL_MARKERS, *text_markers}
    clean: list[Any] = []
    texts: dict[int, str] = {}
    for i, v in enumerate(values):
        if type(v) is str:
            if v.strip() in markers:
                clean.append(None)
                continue
            texts[i] = v
            clean.append(None)
            continue
        clean.append(_value_for(v, t, strict, i))
    if texts:
        positions = list(texts)
        if strict and not pa.types.is_temporal(t):
            # Text cells are text: "12" typed in a text cell does not make a number of it.
            raise Misfit(positions[0], texts[positions[0]])
        try:
            parsed = _convert_text(pa.array(list(texts.values()), STRING), target, (), strict).to_pylist()
        except Misfit as m:
            raise Misfit(positions[m.index], m.value) from None
        for k, p in zip(positions, parsed, strict=True):
            clean[k] = p
    try:
        return pa.array(clean, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
        raise _find_misfit(clean, lambda v: pa.array([v], t)) from e


def _value_for(v: Any, t: pa.DataType, strict: bool, i: int) -> Any:
    """One non-text cell as a value of Arrow type ``t``; raises Misfit when it does not fit."""
    if v is None:
        return None
    if pa.types.is_boolean(t):
        if type(v) is bool or (not strict and type(v) is int and v in (0, 1)):
            return bool(v)
    elif pa.types.is_integer(t):
        if type(v) is int or (type(v) in (float, Decimal) and float(v).is_integer()):
            return int(v)
    elif pa.types.is_floating(t) or pa.types.is_decimal(t):
        if type(v) in (int, float, Decimal):
            return v if pa.types.is_decimal(t) else float(v)
    elif pa.types.is_date(t):
        if type(v) is dt.date:
            return v
        if type(v) is dt.datetime and (not strict or v.time() == dt.time()) and v.tzinfo is None:
            return v.date()
    elif pa.types.is_timestamp(t):
        if type(v) is dt.date:
            return dt.datetime(v.year, v.month, v.day)
        if type(v) is dt.datetime and (v.tzinfo is None) == (t.tz is None or not strict):
            if t.tz is not None and v.tzinfo is None:
                return v.replace(tzinfo=dt.UTC)
            return v
    elif pa.types.is_binary(t) and isinstance(v, bytes):
        return v
    raise Misfit(i, v)
