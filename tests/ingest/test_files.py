"""Files: ls (paginated), buckets, read_file, read (Parquet, with SQL filters), write; path lookup."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput, NotFound
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from tests.services import S3Server

from .conftest import Landing


def test_write_read_ls(rat: Rat, landing: Landing) -> None:
    df = pd.DataFrame({"id": [1, 2, 3], "v": ["a", "b", "c"]})
    assert rat.write(df, "landing/exports/x.parquet") == "landing/exports/x.parquet"
    assert rat.write(df.head(1), "landing/exports/y") == "landing/exports/y.parquet"
    assert rat.ls("landing/exports/") == ["landing/exports/x.parquet", "landing/exports/y.parquet"]
    assert "landing/exports/x.parquet" in rat.ls()
    assert len(rat.read("landing/exports/*.parquet")) == 4
    assert rat.read("landing/exports/x.parquet", where="id >= 2", limit=1)["id"].tolist() == [2]
    data, ext = rat.read_file("landing/exports/x.parquet")
    assert ext == "parquet" and data.read(4) == b"PAR1"
    with pytest.raises(NotFound, match="looked in"):
        rat.read("landing/none/*.parquet")
    with pytest.raises(InvalidInput, match="file path"):
        rat.write(df, "landing/exports/")


def test_short_paths_resolve_from_cwd_then_landing(
    local_rat: Rat, local_landing: Landing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "here.csv").write_text("id\n1\n")
    local_landing.put("there.csv", "id\n2\n")
    monkeypatch.chdir(work)
    assert local_rat.ice_ingest("here.csv", "bronze.p")[1] == 1
    assert local_rat.ice_ingest("there.csv", "bronze.p")[1] == 1
    assert local_rat.ice_ingest(str(work / "here.csv"), "bronze.p")[1] == 1
    with pytest.raises(NotFound, match=f"looked in {work}/nowhere.csv and .*landing/nowhere.csv"):
        local_rat.ice_ingest("nowhere.csv", "bronze.p")
    assert local_rat.ice_ingest("landing/th*.csv", "bronze.p")[1] == 1  # a glob naming one file is fine
    local_landing.put("third.csv", "id\n3\n")
    with pytest.raises(InvalidInput, match=r"names 2 files.*ice_ingest_batch"):
        local_rat.ice_ingest("landing/th*.csv", "bronze.p")


def test_s3_listing_is_paginated_and_buckets(s3_server: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    client = s3_server.client()
    keys = [f"landing/many/f{i:04d}.csv" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=s3_bucket, Key=k, Body=b"id\n1\n"), keys))
    settings = Settings.for_home(
        tmp_path / "home", landing=f"s3://{s3_bucket}/landing", s3_endpoint=s3_server.endpoint,
        s3_access_key_id=s3_server.access_key_id, s3_secret_access_key=s3_server.secret_access_key,
    )  # fmt: skip
    rat = Rat(Lakehouse(settings))
    listed = rat.ls("landing/many/")
    assert len(listed) == 1005 and listed[0] == "landing/many/f0000.csv"
    assert len(rat.ls(f"s3://{s3_bucket}/landing/many/")) == 1005
    assert s3_bucket in rat.buckets()
    data, ext = rat.read_file("landing/many/f0007.csv")
    assert ext == "csv" and data.read() == b"id\n1\n"


def test_no_buckets_without_s3(local_rat: Rat) -> None:
    assert local_rat.buckets() == []
    assert local_rat.ls() == []
    assert os.path.isabs(local_rat.session.settings.landing)


@pytest.mark.parametrize(
    "path", ["landing/../../escape.parquet", "../escape.parquet", "landing/a/../../../escape.parquet"]
)
def test_paths_that_leave_the_landing_zone_are_refused(tmp_path: Path, path: str) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path / "home")))
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(InvalidInput, match="leaves the landing zone"):
        rat.write(frame, path)
    with pytest.raises(InvalidInput, match="leaves the landing zone"):
        rat.ls("landing/../..")
    with pytest.raises(InvalidInput, match="leaves the landing zone"):
        rat.ice_ingest("landing/../catalog.db", "bronze.x")
    assert not list(tmp_path.rglob("escape.parquet"))
    assert rat.ice_all() == {}
    assert rat.write(frame, "landing/sub/../inside.parquet") == "landing/inside.parquet"
