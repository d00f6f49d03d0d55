"""The serving layer and the server code path, executed through chDB against moto's S3.

The SQL is what a ClickHouse server would receive (``rat_s3`` named collection, ``IcebergS3`` tables,
``s3Cluster``/``icebergS3Cluster`` on a cluster); see tests/stack/conftest.py.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ratatouille import Rat
from ratatouille.config import Settings
from ratatouille.errors import AlreadyExists, ConfigError, EngineError, InvalidInput, NotFound
from ratatouille.reading import resolve
from ratatouille.serving_sql import Target, parse_comment, publish_statements
from ratatouille.session import Lakehouse
from ratatouille.sqltext import TableRef
from tests.stack.conftest import ServerLakehouse, server_lakehouse


def _count(lh: ServerLakehouse, table: str) -> int:
    return int(lh.engine.query_arrow(f"SELECT count() AS n FROM {table}").column("n")[0].as_py())


def _secrets(settings: Settings) -> list[str]:
    return [settings.s3_secret_access_key, settings.s3_access_key_id]


def test_embedded_default_says_there_is_no_server(tmp_path: Path, published: None) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path)))
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.revenue")
    for call in (lambda: rat.publish("gold.revenue"), lambda: rat.materialize("bi.x", "gold.revenue")):
        with pytest.raises(ConfigError) as info:
            call()
        message = str(info.value)
        assert "no BI tool" in message and "embedded engine" in message
        assert "make up" in message and "docker compose -f docker/compose.yaml up -d" in message
    assert rat.tables().empty  # nothing published: listing works on any engine
    with pytest.raises(NotFound):
        rat.describe("gold.revenue")


def test_sdk_signatures_match_the_contract() -> None:
    def params(name: str) -> list[str]:
        return list(inspect.signature(getattr(Rat, name)).parameters)[1:]

    assert params("publish")[:1] == ["table"]
    assert params("materialize")[:3] == ["table_name", "source", "order_by"]
    assert inspect.signature(Rat.materialize).parameters["order_by"].default == "tuple()"
    assert params("tables") == ["database"] and params("describe") == ["table"]
    assert params("drop")[:1] == ["table"] and params("clickhouse") == []


def test_lakehouse_behaviour_on_the_server_path(server: ServerLakehouse, tmp_path: Path) -> None:
    rat = Rat(server)
    csv = tmp_path / "s.csv"
    csv.write_text("id,v\n1,10.0\n2,20.0\n")
    _, rows = rat.ice_ingest(str(csv), "bronze.s")
    assert rows == 2
    assert rat.ice_ingest_df(pd.DataFrame({"id": [3], "v": [30.0]}), "bronze.s") == 1
    rat.transform("SELECT id, v * 2 AS v2 FROM {bronze.s}", "silver.s")
    assert rat.ice_merge(pd.DataFrame({"id": [3, 4], "v2": [0.0, 8.0]}), "silver.s", ["id"]) == {
        "inserted": 1,
        "updated": 1,
    }
    with rat.dev_context("feature"):
        rat.ice_ingest_df(pd.DataFrame({"id": [5], "v": [50.0]}), "bronze.s")
        assert len(rat.df("bronze.s")) == 4
    assert len(rat.df("bronze.s")) == 3
    rat.dev_merge("feature")
    assert len(rat.df("bronze.s")) == 4
    got = rat.query("SELECT id, v2 FROM {silver.s} ORDER BY id")
    assert set(rat.df("bronze.s").columns) >= {"id", "v", "_source_file", "_ingested_at"}
    assert got["id"].tolist() == [1, 2, 3, 4] and got["v2"].tolist() == [20.0, 40.0, 0.0, 8.0]
    preview = rat.transform_preview("SELECT * FROM {bronze.s}")
    assert "s3(rat_s3, url=" in preview
    sent = "\n".join(server.engine.statements)
    assert "s3(rat_s3, url=" in sent
    assert not any(secret in sent for secret in _secrets(server.settings))
    info = rat.cache_info()  # a server keeps no per-session copies: every read went to the files
    assert not info.enabled and "ClickHouse server" in info.reason and info.fills == 0
    assert "rat_cache" not in sent


def test_publish_live_follows_main_only(server: ServerLakehouse) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2], "amount": [5.0, 7.0]}), "gold.revenue")
    out = rat.publish("gold.revenue")
    assert out["table"] == "gold.revenue" and out["mode"] == "live" and out["engine"] == "IcebergS3"
    assert _count(server, "gold.revenue") == 2
    rat.ice_ingest_df(pd.DataFrame({"id": [3], "amount": [1.0]}), "gold.revenue")
    assert _count(server, "gold.revenue") == 3  # follows each commit to main
    with rat.dev_context("wip"):
        rat.ice_ingest_df(pd.DataFrame({"id": [9], "amount": [9.0]}), "gold.revenue")
    assert _count(server, "gold.revenue") == 3  # a dev branch is not published
    info = rat.describe("gold.revenue")
    assert info["mode"] == "live" and info["stale"] is False and info["rows"] == 3
    assert [c["name"] for c in info["columns"]] == ["id", "amount"]
    assert re.search(r"IcebergS3\(rat_s3, url = 'http://[^']+/warehouse/gold/revenue/'", info["create_sql"])
    assert not any(secret in info["create_sql"] for secret in _secrets(server.settings))


def test_publish_pinned_and_snapshot_stay_until_published_again(server: ServerLakehouse) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"id": [1, 2]}), "gold.t")
    first = rat.ice_history("gold.t")["snapshot_id"].iloc[-1]
    assert rat.publish("gold.t", mode="pinned", name="bi.t_pinned")["snapshot_id"] == first
    assert rat.publish("gold.t", mode="snapshot", name="bi.t_copy", order_by="id")["engine"] == "MergeTree"
    rat.ice_ingest_df(pd.DataFrame({"id": [3]}), "gold.t")
    assert _count(server, "bi.t_pinned") == 2 and _count(server, "bi.t_copy") == 2
    assert rat.describe("bi.t_pinned")["stale"] is True and rat.describe("bi.t_copy")["stale"] is True
    rat.publish("gold.t", mode="pinned", name="bi.t_pinned")
    rat.publish("gold.t", mode="snapshot", name="bi.t_copy", order_by="id")
    assert _count(server, "bi.t_pinned") == 3 and _count(server, "bi.t_copy") == 3
    assert rat.describe("bi.t_copy")["stale"] is False
    # A snapshot id (or tag) can be served as a copy, not live.
    old = rat.publish(f"gold.t@{first}", mode="snapshot", name="bi.t_first")
    assert old["snapshot_id"] == first and _count(server, "bi.t_first") == 2
    with pytest.raises(InvalidInput, match="mode='snapshot'"):
        rat.publish(f"gold.t@{first}")


def test_publish_refresh_is_a_refreshable_view(server: ServerLakehouse) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"k": ["a", "b"], "n": [1, 2]}), "gold.r")
    out = rat.publish("gold.r", mode="refresh", every="10 minutes", order_by="k")
    assert out["engine"] == "MaterializedView"
    assert _count(server, "gold.r") == 2  # the first refresh ran before publish returned
    info = rat.describe("gold.r")
    assert info["refresh"]["status"] and "REFRESH EVERY 10 MINUTE" in info["create_sql"]
    rat.publish("gold.r", mode="refresh")  # again: replaced
    with pytest.raises(InvalidInput, match="refresh interval"):
        rat.publish("gold.r", mode="refresh", every="often")


def _served_tables(lh: ServerLakehouse, database: str) -> set[str]:
    sql = f"SELECT name FROM system.tables WHERE database = '{database}' AND NOT startsWith(name, '.inner')"
    return {str(r["name"]) for r in lh.engine.query_arrow(sql).to_pylist()}


def test_publish_refresh_swaps_the_new_table_in(server: ServerLakehouse, s3_server: Any) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"k": ["a", "b"], "n": [1, 2]}), "gold.r")
    rat.publish("gold.r", mode="refresh", order_by="k")
    assert _served_tables(server, "gold") == {"r"}
    # A create that fails, then a fill that fails (the new commit's data files are gone from S3): readers
    # keep the table served before, and nothing of the failed attempt is left behind.
    with pytest.raises(EngineError):
        rat.publish("gold.r", mode="refresh", order_by="no_such_column")
    rat.ice_ingest_df(pd.DataFrame({"k": ["c"], "n": [3]}), "gold.r")
    bucket = urlparse(server.settings.warehouse).netloc
    client = s3_server.client()
    kept = {
        o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith(".parquet")
    }
    server.engine.statements.clear()
    rat.ice_ingest_df(pd.DataFrame({"k": ["d"], "n": [4]}), "gold.r")
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    gone = {o["Key"] for o in listed if o["Key"].endswith(".parquet")} - kept
    bodies = {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in gone}
    for key in gone:
        client.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(EngineError):
        rat.publish("gold.r", mode="refresh", order_by="k")
    assert _count(server, "gold.r") == 2
    assert _served_tables(server, "gold") == {"r"}
    # The served name is never dropped: it is exchanged with the new table once that one is filled.
    assert not [s for s in server.engine.statements if s.startswith("DROP") and "`gold`.`r`" in s]
    for key, body in bodies.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    out = rat.publish("gold.r", mode="refresh", order_by="k")
    assert out["engine"] == "MaterializedView" and _count(server, "gold.r") == 4
    assert _served_tables(server, "gold") == {"r"}
    assert rat.describe("gold.r")["mode"] == "refresh"
    # The first publish of a name moves the filled table in, and a failed first fill leaves nothing.
    rat.publish("gold.r", mode="refresh", name="gold.r2")
    assert _count(server, "gold.r2") == 4 and _served_tables(server, "gold") == {"r", "r2"}
    with pytest.raises(EngineError):
        rat.publish("gold.r", mode="refresh", name="gold.r3", order_by="no_such_column")
    assert _served_tables(server, "gold") == {"r", "r2"}


def test_materialize_tables_describe_drop(server: ServerLakehouse) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"region": ["n", "s", "n"], "amount": [1.0, 2.0, 3.0]}), "silver.sales")
    out = rat.materialize(
        "bi.by_region", "SELECT region, sum(amount) AS total FROM {silver.sales} GROUP BY region", "region"
    )
    assert out["rows"] == 2 and out["sources"][0].startswith("silver.sales@")
    assert rat.materialize("bi.sales_copy", "silver.sales")["rows"] == 3
    rat.publish("silver.sales")
    listed = rat.tables()
    assert set(listed["table"]) == {"bi.by_region", "bi.sales_copy", "silver.sales"}
    assert set(rat.tables("bi")["mode"]) == {"materialize"}
    got = server.engine.query_arrow("SELECT region, total FROM bi.by_region ORDER BY region").to_pylist()
    assert got == [{"region": "n", "total": 4.0}, {"region": "s", "total": 2.0}]
    # Tables not made here are left alone.
    server.engine.command("CREATE TABLE bi.manual (x Int64) ENGINE = Memory")
    with pytest.raises(AlreadyExists, match="not made by ratatouille"):
        rat.publish("silver.sales", name="bi.manual")
    with pytest.raises(InvalidInput, match="force=True"):
        rat.drop("bi.manual")
    assert "bi.manual" not in set(rat.tables()["table"])
    assert rat.drop("bi.by_region") == "bi.by_region"
    assert rat.drop("bi.manual", force=True) == "bi.manual"
    with pytest.raises(NotFound):
        rat.drop("bi.by_region")
    assert len(rat.df("silver.sales")) == 3  # the lakehouse table is untouched


def test_cluster_reads_use_the_cluster_functions(s3_settings: Settings, published: None) -> None:
    lh = server_lakehouse(s3_settings, cluster="lake")
    rat = Rat(lh)
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.c")
    resolved = resolve(lh.catalog, TableRef.parse("gold.c"), "main")
    target = Target("gold", "c")

    def render(mode: str) -> str:
        return " ".join(
            publish_statements(target, resolved, mode, settings=lh.settings, engine=lh.engine, cluster="lake")
        )

    assert (
        "CREATE OR REPLACE VIEW `gold`.`c` DEFINER = CURRENT_USER SQL SECURITY DEFINER "
        "AS SELECT * FROM icebergS3Cluster('lake', rat_s3, url=" in (render("live"))
    )
    assert "SETTINGS iceberg_snapshot_id = " in render("pinned")
    assert "s3Cluster('lake', rat_s3, url=" in render("snapshot")
    assert "FROM icebergS3Cluster('lake', rat_s3" in render("refresh")
    assert "s3Cluster('lake', rat_s3, url=" in rat.transform_preview("SELECT * FROM {gold.c}")
    # The views with the single-node function run in chDB: the pinned one stays on its snapshot.
    lh.engine.command("CREATE DATABASE IF NOT EXISTS gold")
    for mode in ("live", "pinned"):
        for sql in publish_statements(Target("gold", f"c_{mode}"), resolved, mode, settings=lh.settings,
                                      engine=lh.engine, cluster="lake"):  # fmt: skip
            lh.engine.command(sql.replace("icebergS3Cluster('lake', ", "icebergS3("))
    rat.ice_ingest_df(pd.DataFrame({"id": [2]}), "gold.c")
    assert _count(lh, "gold.c_live") == 2 and _count(lh, "gold.c_pinned") == 1
    assert set(rat.tables("gold")["mode"]) == {"live", "pinned"}
    # chDB knows the cluster functions and asks for the cluster (none exists in an embedded engine).
    with pytest.raises(EngineError, match="cluster 'lake' not found"):
        rat.publish("gold.c")
    with pytest.raises(EngineError, match="cluster 'lake' not found"):
        rat.query("SELECT * FROM {gold.c}")
    lh.close()


def test_validation(server: ServerLakehouse, tmp_path: Path) -> None:
    rat = Rat(server)
    rat.ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.v")
    with pytest.raises(InvalidInput, match="unknown publish mode"):
        rat.publish("gold.v", mode="fast")
    with pytest.raises(InvalidInput, match="reserved"):
        rat.publish("gold.v", name="system.v")
    with pytest.raises(InvalidInput):
        rat.publish("gold.v", name="a.b.c")
    with pytest.raises(InvalidInput, match="order_by"):
        rat.publish("gold.v", mode="snapshot", order_by="id; DROP TABLE x")
    with pytest.raises(NotFound):
        rat.publish("gold.missing")
    # A server cannot read a warehouse on the notebook's disk.
    local = Settings.for_home(tmp_path / "local")
    Rat(Lakehouse(local)).ice_ingest_df(pd.DataFrame({"id": [1]}), "gold.v")
    remote = ServerLakehouse(local.with_(engine=server.settings.engine), server.engine)
    with pytest.raises(ConfigError, match="RAT_WAREHOUSE=s3://"):
        Rat(remote).publish("gold.v")


def test_comment_round_trip() -> None:
    marker = parse_comment(
        "CREATE TABLE x ENGINE = Memory COMMENT 'ratatouille mode=snapshot "
        "source=gold.a@12,silver.b@- at=2026-01-01T00:00:00Z'"
    )
    assert marker == {
        "mode": "snapshot",
        "sources": [("gold.a", 12), ("silver.b", None)],
        "published_at": "2026-01-01T00:00:00Z",
    }
    assert parse_comment("CREATE TABLE x ENGINE = Memory COMMENT 'mine'") is None


def test_clickhouse_client(tmp_path: Path) -> None:
    rat = Rat(Lakehouse(Settings.for_home(tmp_path)))
    client = rat.clickhouse()
    assert client.query("SELECT 1 + 1").result_rows == [(2,)]
    broken = Rat(Lakehouse(Settings.for_home(tmp_path, engine="http://127.0.0.1:9")))
    with pytest.raises(EngineError, match="RAT_ENGINE"):
        broken.clickhouse()


_LOAD_SERVER_CONFIG = """
import sys, chdb
conn = chdb.connect(":memory:?config-file=" + sys.argv[1])
url = sys.argv[2]
print(conn.query(f"SELECT sum(a) FROM s3(rat_s3, url='{url}', format='Parquet')", "CSV"))
try:
    conn.query(f"SELECT 1 FROM s3(rat_s3, url='{url}', format='Parquet', access_key_id='x')", "CSV")
except Exception as e:
    print(e)
"""


def test_the_server_config_file_defines_rat_s3(s3_server: Any, s3_bucket: str, tmp_path: Path) -> None:
    # ClickHouse's own config loader (chDB in a fresh process) reads docker/clickhouse/config.d: rat_s3
    # takes its keys from the environment, lets queries name their files, and keeps its keys.
    body = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2, 3]}), body)
    s3_server.client().put_object(Bucket=s3_bucket, Key="probe.parquet", Body=body.getvalue())
    config = Path(__file__).resolve().parents[2] / "docker" / "clickhouse" / "config.d" / "ratatouille.xml"
    env = {
        **os.environ,
        "RAT_S3_ENDPOINT": s3_server.endpoint,
        "RAT_S3_ACCESS_KEY_ID": s3_server.access_key_id,
        "RAT_S3_SECRET_ACCESS_KEY": s3_server.secret_access_key,
    }
    url = f"{s3_server.endpoint}/{s3_bucket}/probe.parquet"
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_SERVER_CONFIG, str(config), url],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "6"
    assert "Override not allowed for 'access_key_id'" in done.stdout
