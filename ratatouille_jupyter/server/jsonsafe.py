"""Arrow rows as bounded JSON: what the preview grid receives.

Every value becomes a JSON scalar, list or object that JavaScript reads back faithfully: integers beyond
2**53 and decimals become strings, non-finite floats become ``"NaN"``/``"Infinity"``, times become ISO
strings, binary becomes a hex preview, and long text is cut, so one preview answer stays small.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: Longest string (or binary hex preview) a cell carries; longer values end with an ellipsis.
MAX_CELL_CHARS = 1000
#: Most items of a list or entries of a map/struct a cell carries.
MAX_NESTED_ITEMS = 50
_JS_SAFE_INT = 2**53 - 1


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def json_value(value: Any, limit: int = MAX_CELL_CHARS) -> Any:
    """One Python value (from ``pyarrow`` ``to_pylist``) as a bounded, JSON-safe value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_JS_SAFE_INT <= value <= _JS_SAFE_INT else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return _cut("0x" + raw[: limit // 2].hex(), limit)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_NESTED_ITEMS]
        return {str(k): json_value(v, limit) for k, v in items}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a map: [(key, value)...]
            return {str(k): json_value(v, limit) for k, v in value[:MAX_NESTED_ITEMS]}
        return [json_value(v, limit) for v in value[:MAX_NESTED_ITEMS]]
    return _cut(str(value), limit)


def arrow_rows(data: pa.Table) -> dict[str, Any]:
    """Columns (name and Arrow type) and rows (lists of JSON-safe values) of an Arrow table."""
    columns = [{"name": f.name, "type": str(f.type)} for f in data.schema]
    pylists = [col.to_pylist() for col in data.columns]
    rows = [[json_value(col[i]) for col in pylists] for i in range(data.num_rows)]
    return {"columns": columns, "rows": rows}
