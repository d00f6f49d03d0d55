"""The words SQL cells complete besides columns: ClickHouse functions and SQL keywords.

The functions are a static list, ``clickhouse_functions.json`` next to this module, made from chDB's
``system.functions`` by ``python -m ratatouille_jupyter.completion.sqlwords`` (again after a chDB
upgrade).
Completion reads the file once, on first use: a keystroke never starts or queries the engine.
"""

from __future__ import annotations

import bisect
import functools
import json
from pathlib import Path
from typing import NamedTuple

FUNCTIONS_FILE = Path(__file__).resolve().parent / "clickhouse_functions.json"

#: Keywords of queries (single words; ``GROUP BY`` completes as ``GROUP`` then ``BY``).
KEYWORDS = (
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "DISTINCT", "AS",
    "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE",
    "END", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "SEMI", "ANTI", "ASOF", "ON",
    "USING", "UNION", "ALL", "EXCEPT", "INTERSECT", "WITH", "ASC", "DESC", "NULLS", "FIRST", "LAST",
    "OVER", "PARTITION", "ROWS", "RANGE", "PRECEDING", "FOLLOWING", "UNBOUNDED", "CURRENT", "ROW",
    "INTERVAL", "ARRAY", "EXISTS", "TRUE", "FALSE", "QUALIFY", "FINAL", "SAMPLE", "PREWHERE", "SETTINGS",
    "FORMAT", "ANY", "GLOBAL", "TOTALS", "ROLLUP", "CUBE", "FILL", "TIES",
)  # fmt: skip


class Function(NamedTuple):
    """A ClickHouse function: its name, whether it aggregates, whether its name ignores case."""

    name: str
    aggregate: bool
    case_insensitive: bool


@functools.cache
def functions() -> tuple[Function, ...]:
    """The ClickHouse functions, by name (read from the static list once; empty if it is missing)."""
    try:
        data = json.loads(FUNCTIONS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(Function(str(n), bool(a), bool(c)) for n, a, c in data["functions"])


@functools.cache
def _by_lower_name() -> tuple[list[str], list[Function]]:
    ordered = sorted(functions(), key=lambda f: f.name.lower())
    return [f.name.lower() for f in ordered], ordered


def functions_starting(prefix: str) -> list[Function]:
    """The functions whose name starts with ``prefix``, ignoring case (a binary search), by name."""
    keys, ordered = _by_lower_name()
    low = prefix.lower()
    start = bisect.bisect_left(keys, low)
    end = bisect.bisect_left(keys, low + "\U0010ffff")
    return ordered[start:end]


def generate(path: Path = FUNCTIONS_FILE) -> int:
    """Write the static list from chDB's ``system.functions``; return how many functions it holds.

    Internal functions (a leading ``_``) and names that are not identifiers are left out.
    """
    import chdb

    result = chdb.query(
        "SELECT name, is_aggregate, case_insensitive FROM system.functions "
        "WHERE match(name, '^[A-Za-z][A-Za-z0-9_]*$') ORDER BY name",
        "JSONCompact",
    )
    rows = [[str(n), int(a), int(c)] for n, a, c in json.loads(result.bytes())["data"]]
    payload = {"source": f"chDB {chdb.__version__} system.functions", "functions": rows}
    path.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"{generate()} functions written to {FUNCTIONS_FILE}")
