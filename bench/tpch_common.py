"""TPC-H pieces shared by ``bench/bench_tpch.py`` and its engine processes: queries, data, answers, timing."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
QUERY_DIR = HERE / "tpch"
NAMESPACE = "tpch"
#: Load order: small tables first (a failing load shows early).
TABLES = ("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem")
REFERENCE = re.compile(r"\{tpch\.(\w+)\}")


def queries() -> dict[str, str]:
    """``{"q01": sql, ...}`` from ``bench/tpch/q*.sql``, with ``{tpch.name}`` references."""
    return {p.stem: p.read_text() for p in sorted(QUERY_DIR.glob("q[0-9][0-9].sql"))}


def plain_sql(sql: str) -> str:
    """The query for DuckDB: each ``{tpch.name}`` becomes the table (view) ``name``."""
    return REFERENCE.sub(r"\1", sql)


# -- data ------------------------------------------------------------------------------------------------


def generate(sf: float, out: Path) -> float:
    """Write the TPC-H tables at scale factor ``sf`` as Parquet under ``out``; return the seconds taken."""
    cli = Path(sys.executable).with_name("tpchgen-cli")
    exe = str(cli) if cli.exists() else shutil.which("tpchgen-cli")
    if exe is None:
        raise SystemExit("tpchgen-cli not found: pip install 'ratatouille[bench]'")
    start = time.perf_counter()
    subprocess.run([exe, "parquet", "-s", f"{sf:g}", f"--output-dir={out}"], check=True)
    return time.perf_counter() - start


def parquet_files(data: Path, table: str) -> list[Path]:
    """The generated files of a table (one file, or a folder of parts with ``--parts``)."""
    single = data / f"{table}.parquet"
    return [single] if single.exists() else sorted((data / table).glob("*.parquet"))


def plain_strings(batch: pa.Table) -> pa.Table:
    """The batch with ``string_view`` columns as ``string`` (pyiceberg does not take views)."""
    fields = [
        pa.field(f.name, pa.string(), f.nullable) if pa.types.is_string_view(f.type) else f
        for f in batch.schema
    ]
    return batch.cast(pa.schema(fields))


def load(rat: Any, data: Path, batch_rows: int) -> dict[str, int]:
    """Write every generated table into ``tpch.<name>`` through the SDK, in batches; return rows per table.

    Every batch is one append (``rat.ice_ingest_df`` of an Arrow table), so memory stays bounded by a batch.
    """
    rows: dict[str, int] = {}
    for table in TABLES:
        rows[table] = 0
        for path in parquet_files(data, table):
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                rows[table] += rat.ice_ingest_df(
                    plain_strings(pa.Table.from_batches([batch])), f"tpch.{table}"
                )
        print(f"  loaded {NAMESPACE}.{table}: {rows[table]:,} rows", flush=True)
    return rows


def snapshot_files(catalog: Any, table: str) -> list[str]:
    """Local paths of the data files of the table's current snapshot (what ``rat.query`` reads)."""
    tasks = catalog.load_table(f"{NAMESPACE}.{table}").scan().plan_files()
    return [task.file.file_path.removeprefix("file://") for task in tasks]


def duckdb_connection(files: dict[str, list[str]], native: bool) -> Any:
    """An in-memory DuckDB with one view (or, ``native``, one table loaded from them) per table."""
    import duckdb

    con = duckdb.connect()
    kind = "TABLE" if native else "VIEW"
    for table, paths in files.items():
        con.execute(f"CREATE {kind} {table} AS SELECT * FROM read_parquet({[*paths]!r})")
    return con


# -- timing ----------------------------------------------------------------------------------------------


def run_pass(run: Callable[[str], Any], sqls: dict[str, str]) -> tuple[dict[str, float], dict[str, Any]]:
    """Run every query once: (seconds per query, answer per query). A failing query's answer is its error."""
    seconds: dict[str, float] = {}
    answers: dict[str, Any] = {}
    for name, sql in sqls.items():
        start = time.perf_counter()
        try:
            answers[name] = run(sql)
        except Exception as e:
            answers[name] = e
            seconds[name] = math.nan
            print(f"  {name}: {type(e).__name__}: {str(e)[:300]}", flush=True)
            continue
        seconds[name] = time.perf_counter() - start
    return seconds, answers


def timed(fn: Callable[[], Any]) -> float:
    """Seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def medians(passes: list[dict[str, float]]) -> dict[str, float]:
    """Per query, the median of its seconds over the passes."""
    return {name: statistics.median(p[name] for p in passes) for name in passes[0]}


def total(seconds: dict[str, float]) -> float:
    """Sum of the per-query seconds (NaN when a query failed)."""
    return math.fsum(seconds.values())


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    now = _status_mb("VmRSS")
    return math.nan if now is None else now


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    ``VmHWM`` where there is one: on Linux ``getrusage(RUSAGE_SELF).ru_maxrss`` of a process started by
    another keeps the parent's peak across ``exec`` (measured: 1.9 GB in a fresh interpreter started by a
    2 GB parent), so it would report the benchmark's own memory, not the engine's.
    """
    peak = _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if peak is None else peak


# -- answers ---------------------------------------------------------------------------------------------


def normalized(value: Any) -> Any:
    """A cell made comparable across engines: numbers as floats, dates as ISO text, strings stripped."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def same_cell(a: Any, b: Any) -> bool:
    """Equal after normalizing; numbers rounded to 2 places, then equal within 1e-6 relative.

    One cent of absolute slack too: ClickHouse's decimal division keeps the dividend's scale, so an
    average or a ratio may be truncated where DuckDB rounds.
    """
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(round(a, 2), round(b, 2), rel_tol=1e-6, abs_tol=0.0100001)
    return bool(a == b)


def rows_of(table: pa.Table) -> list[tuple[Any, ...]]:
    """The result's rows, normalized, in its order."""
    return [tuple(normalized(v) for v in row.values()) for row in table.to_pylist()]


def compare(ours: Any, expected: Any) -> str | None:
    """None when ``ours`` (an Arrow table) gives the expected answer; otherwise what differs."""
    if isinstance(ours, BaseException) or ours is None:
        return f"no answer ({ours!r})"[:300]
    if isinstance(expected, BaseException):
        return f"no reference answer ({expected!r})"[:300]
    got, want = rows_of(ours), rows_of(expected)
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if len(g) != len(w) or not all(same_cell(x, y) for x, y in zip(g, w, strict=False)):
            return f"row {i}: {g!r} != expected {w!r}"[:300]
    return None
