"""Smoke tests for the throwaway PostgreSQL / S3 services and their fixtures."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.services import PostgresNotFoundError, PostgresServer, S3Server, free_port


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_missing_postgres_binaries_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFoundError, match="initdb and postgres"):
        PostgresServer(bindir=tmp_path).start()


def test_postgres_fresh_database(pg_catalog_uri: str, postgres_server: PostgresServer) -> None:
    import psycopg2

    url = urlsplit(pg_catalog_uri)
    assert url.scheme == "postgresql+psycopg2"
    assert (url.hostname, url.port, url.username) == ("127.0.0.1", postgres_server.port, "postgres")
    dbname = url.path.lstrip("/")
    conn = psycopg2.connect(host=url.hostname, port=url.port, user=url.username, dbname=dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
            cur.execute("SELECT current_database()")
            assert cur.fetchone() == (dbname,)
            cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()


def test_postgres_url_works_with_sqlalchemy(pg_catalog_uri: str) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(pg_catalog_uri)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_postgres_drop_database_with_open_connection(postgres_server: PostgresServer) -> None:
    import psycopg2

    postgres_server.create_database("to_drop")
    conn = psycopg2.connect(postgres_server.dsn("to_drop"))
    try:
        postgres_server.drop_database("to_drop")  # terminates `conn`
        postgres_server.drop_database("to_drop")  # idempotent
    finally:
        conn.close()
    admin = psycopg2.connect(postgres_server.dsn())
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_database WHERE datname = 'to_drop'")
            assert cur.fetchone() == (0,)
    finally:
        admin.close()


def test_postgres_rejects_bad_database_names(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')


def test_s3_object_round_trip(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="dir/hello.txt", Body=b"hello")
    assert client.get_object(Bucket=s3_bucket, Key="dir/hello.txt")["Body"].read() == b"hello"
    keys = [obj["Key"] for obj in client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["dir/hello.txt"]


def test_s3_buckets_are_fresh(s3_server: S3Server, s3_bucket: str) -> None:
    assert s3_server.client().list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0


def test_s3_parquet_round_trip_pyarrow(s3_server: S3Server, s3_bucket: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow.fs import S3FileSystem

    fs = S3FileSystem(
        endpoint_override=s3_server.endpoint.removeprefix("http://"),
        access_key=s3_server.access_key_id,
        secret_key=s3_server.secret_access_key,
        region=s3_server.region,
        scheme="http",
    )
    table = pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    pq.write_table(table, f"{s3_bucket}/t/part-0.parquet", filesystem=fs)
    assert pq.read_table(f"{s3_bucket}/t/part-0.parquet", filesystem=fs).equals(table)


def test_s3_parquet_round_trip_s3fs(s3_server: S3Server, s3_bucket: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(**s3_server.storage_options())
    table = pa.table({"x": [1.5, 2.5]})
    with fs.open(f"{s3_bucket}/t.parquet", "wb") as f:
        pq.write_table(table, f)
    assert fs.ls(s3_bucket) == [f"{s3_bucket}/t.parquet"]
    # Cross-check: what s3fs wrote, pyarrow's own S3 client reads back.
    assert pq.read_table(f"{s3_bucket}/t.parquet", filesystem=s3_server.pyarrow_filesystem()).equals(table)
