"""Engine settings applied once per session (every query of the engine gets them).

``use_hive_partitioning`` is off for correctness: with it, ClickHouse reads ``key=value`` folders of a
data file's path as columns, and a table partitioned by a spec it later replaced (files in ``region=...``
folders, then in ``ts_day=...`` ones) failed or could take a value from the path over the one in the
file. An Iceberg table's values are in its files, its partitions in its metadata, never in paths.

Each other setting is here because the TPC-H benchmark (``bench/bench_tpch.py``, SF 1, 2 cores) measured a
gain with it; ``docs/performance.md`` gives the figures. ClickHouse's defaults are kept everywhere else:
its Parquet reader (the native v3 reader is already the default), join algorithms and runtime join
filters measured no better when changed.
"""

from __future__ import annotations

import os

#: Greedy join reordering only for joins of up to 5 tables. The reorderer estimates a join's size from
#: row counts alone (no column statistics on Parquet files or Memory tables), so on the 6-table cyclic
#: joins of Q05 and Q09 it joins on a low-cardinality key first (customers x suppliers of a nation):
#: Q05 took 6.0 s instead of 0.27 s, Q09 1.0 s instead of 0.24 s. Joins of more tables keep the order
#: written, which is how people write them (and TPC-H's, fact table next to its dimensions).
JOIN_ORDER_LIMIT = 5


def session_settings() -> dict[str, str]:
    """The settings every query of a session runs with (besides the session time zone)."""
    return {"query_plan_optimize_join_order_limit": str(JOIN_ORDER_LIMIT), "use_hive_partitioning": "0"}


def fill_settings() -> dict[str, int]:
    """Settings of a snapshot cache fill: insert with as many threads as read (a 6 M-row fill: -20%)."""
    return {"max_insert_threads": os.cpu_count() or 1}
