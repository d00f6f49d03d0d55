"""Metadata this reader does not support: one clear error naming the feature, never a wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ratatouille import Rat
from ratatouille.config import Settings
from ratatouille.errors import InvalidInput
from ratatouille.session import Lakehouse


@pytest.fixture
def rat(tmp_path: Path) -> Rat:
    r = Rat(Lakehouse(Settings.for_home(tmp_path / "home")))
    r.ice_ingest_df(pd.DataFrame({"id": [1, 2]}), "bronze.a")
    return r


def _metadata_path(rat: Rat, table: str) -> Path:
    location = rat.session.catalog.load_table(table).metadata_location
    return Path(location.removeprefix("file://"))


def test_an_unknown_format_version_is_one_clear_error(rat: Rat) -> None:
    # Another engine rewrote the table in a format version from the future.
    path = _metadata_path(rat, "bronze.a")
    meta = json.loads(path.read_text())
    meta["format-version"] = 4
    path.write_text(json.dumps(meta))
    for read in (lambda: rat.query("SELECT * FROM {bronze.a}"), lambda: rat.ice_history("bronze.a")):
        with pytest.raises(InvalidInput, match=r"bronze\.a is Iceberg format version 4.*versions 1 to 3"):
            read()


def test_an_unknown_partition_transform_is_one_clear_error(rat: Rat) -> None:
    # A transform this reader does not know (written by another engine): refused, never a wrong answer.
    path = _metadata_path(rat, "bronze.a")
    meta = json.loads(path.read_text())
    meta["partition-specs"] = [
        {"spec-id": 0, "fields": [{"source-id": 1, "field-id": 1000, "name": "id_z", "transform": "zorder"}]}
    ]
    path.write_text(json.dumps(meta))
    with pytest.raises(InvalidInput, match=r"partitioned with the transform zorder.*'id_z'"):
        rat.query("SELECT id FROM {bronze.a} WHERE id = 2")
