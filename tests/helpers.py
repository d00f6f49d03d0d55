"""Small helpers shared by tests."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import pyarrow as pa

from ratatouille.config import Settings
from ratatouille.session import Lakehouse


def arrow(**columns: list[Any]) -> pa.Table:
    """An Arrow table from keyword columns."""
    return pa.table(columns)


def rows(lh: Lakehouse, sql: str) -> list[dict[str, Any]]:
    """Query result as a list of dicts."""
    return lh.query_arrow(sql).to_pylist()


def sorted_df(lh: Lakehouse, table: str, key: str = "id") -> pd.DataFrame:
    """A whole table, sorted by ``key``, index reset."""
    return lh.query_arrow(f"SELECT * FROM {{{table}}} ORDER BY {key}").to_pandas().reset_index(drop=True)


def head(lh: Lakehouse, table: str, branch: str = "main") -> int | None:
    """The head snapshot id of a table's branch (a table created on a dev branch is found there)."""
    from ratatouille.catalog import load_table

    t = load_table(lh.catalog, table, branch)
    ref = t.metadata.refs.get(branch)
    return None if ref is None else ref.snapshot_id


def settings_env(settings: Settings) -> dict[str, str]:
    """``RAT_*`` variables that make another process open the same lakehouse."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAT_")}
    for key, value in settings.describe().items():
        if key in ("config_file",) or not value:
            continue
        env[f"RAT_{key.upper()}"] = value
    env["RAT_S3_SECRET_ACCESS_KEY"] = settings.s3_secret_access_key
    return env
