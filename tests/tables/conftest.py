"""Fixtures and helpers of the table maintenance tests: a ``rat`` on each setup, and small-file tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from ratatouille.config import Settings
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse


@pytest.fixture
def rat(lakehouse: Lakehouse) -> Rat:
    """A ``rat`` on a fresh lakehouse, on each setup (SQLite + local; Postgres + S3)."""
    return Rat(lakehouse)


@pytest.fixture
def local_rat(local_settings: Settings) -> Iterator[Rat]:
    """A ``rat`` on a fresh embedded lakehouse only (where the setup does not matter)."""
    lh = Lakehouse(local_settings)
    yield Rat(lh)
    lh.close()


def batch(start: int, n: int = 100, **extra: list[Any]) -> pd.DataFrame:
    """Rows ``id`` = start..start+n-1 with a text column."""
    return pd.DataFrame(
        {"id": range(start, start + n), "v": [f"row-{i}" for i in range(start, start + n)], **extra}
    )


def small_files(rat: Rat, table: str, count: int, n: int = 100) -> None:
    """Make ``count`` small files: one append each."""
    for i in range(count):
        rat.ice_ingest_df(batch(i * n, n), table)


def full(rat: Rat, table: str, branch: str = "main") -> pa.Table:
    """Every row of a branch, read through pyiceberg, sorted by every column."""
    t = rat.session.catalog.load_table(table)
    data = t.scan().use_ref(branch).to_arrow()
    return data.sort_by([(c, "ascending") for c in data.column_names])


def data_files(rat: Rat, table: str, branch: str = "main") -> list[Any]:
    """The data files of a branch head."""
    t = rat.session.catalog.load_table(table)
    return [task.file for task in t.scan().use_ref(branch).plan_files()]


def head(rat: Rat, table: str, branch: str = "main") -> int | None:
    """A branch's head snapshot id."""
    ref = rat.session.catalog.load_table(table).metadata.refs.get(branch)
    return None if ref is None else ref.snapshot_id


def exists(rat: Rat, table: str, path: str) -> bool:
    """True when a file of the table exists (local or S3)."""
    return bool(rat.session.catalog.load_table(table).io.new_input(path).exists())
