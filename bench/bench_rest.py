"""The sidebar's REST API at scale: 1,000 tables and a table with 10,000 snapshots.

Builds a lakehouse (tables created empty through pyiceberg; the long history is synthesized in the
table's metadata), starts a Jupyter server with the extension in another process, and reports the
median latency of each route through HTTP, next to the same call made in-process on
:class:`~ratatouille_jupyter.server.service.Explorer` (the baseline: the ratio is the HTTP and server
overhead). Target: every median under 200 ms.

``python bench/bench_rest.py [--tables 1000] [--snapshots 10000] [--repeat 30]``
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import median_time, report

TARGET = "< 200 ms"


def build(home: Path, tables: int, snapshots: int) -> None:
    import pyarrow as pa
    from pyiceberg.schema import Schema
    from pyiceberg.serializers import ToOutputFile
    from pyiceberg.table.refs import SnapshotRef, SnapshotRefType
    from pyiceberg.table.snapshots import SnapshotLogEntry
    from pyiceberg.types import LongType, NestedField, StringType

    from ratatouille.config import Settings
    from ratatouille.session import Lakehouse

    lh = Lakehouse(Settings.for_home(home))
    catalog = lh.catalog
    schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "name", StringType(), required=False, doc="a name"),
    )
    per_ns = 100
    for i in range(tables):
        ns = f"ns{i // per_ns:02d}"
        if i % per_ns == 0:
            catalog.create_namespace_if_not_exists(ns)
        catalog.create_table((ns, f"table_{i:04d}"), schema)

    lh.write(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), "big.history")
    table = catalog.load_table("big.history")
    meta = table.metadata
    base = meta.snapshots[0]
    snaps, log = [base], [SnapshotLogEntry(snapshot_id=base.snapshot_id, timestamp_ms=base.timestamp_ms)]
    for i in range(1, snapshots):
        snap = base.model_copy(
            update={
                "snapshot_id": base.snapshot_id + i,
                "parent_snapshot_id": snaps[-1].snapshot_id,
                "timestamp_ms": base.timestamp_ms + i,
                "sequence_number": i + 1,
            }
        )
        snaps.append(snap)
        log.append(SnapshotLogEntry(snapshot_id=snap.snapshot_id, timestamp_ms=snap.timestamp_ms))
    head = snaps[-1].snapshot_id
    long_meta = meta.model_copy(
        update={
            "snapshots": snaps,
            "snapshot_log": log,
            "current_snapshot_id": head,
            "last_sequence_number": snapshots,
            "refs": {"main": SnapshotRef(snapshot_id=head, snapshot_ref_type=SnapshotRefType.BRANCH)},
        }
    )
    location = f"{table.location()}/metadata/99999-{uuid.uuid4()}.metadata.json"
    ToOutputFile.table_metadata(long_meta, table.io.new_output(location))
    import sqlite3

    with sqlite3.connect(home / "catalog.db") as conn:
        conn.execute(
            "UPDATE iceberg_tables SET metadata_location = ? WHERE table_namespace = 'big'"
            " AND table_name = 'history'",
            (location,),
        )
    lh.close()


def start_server(home: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    config = workdir / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"ratatouille_jupyter.server": True}}})
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RAT_", "JUPYTER_"))},
        "RAT_HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
        "JUPYTER_DATA_DIR": str(workdir / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    args = [
        sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={port}",
        "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir}",
    ]  # fmt: skip
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(url, token, "version")
            return proc, url, token
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError((workdir / "server.log").read_text()[-3000:])


def get(url: str, token: str, path: str) -> Any:
    request = urllib.request.Request(f"{url}/ratatouille/{path}", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    from ratatouille.config import Settings
    from ratatouille_jupyter.server.service import Explorer

    with tempfile.TemporaryDirectory() as tmp:
        home, workdir = Path(tmp) / "home", Path(tmp) / "server"
        workdir.mkdir()
        started = time.perf_counter()
        build(home, args.tables, args.snapshots)
        print(f"built {args.tables} tables + 1 with {args.snapshots} snapshots in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        explorer = Explorer(Settings.for_home(home))
        proc, url, token = start_server(home, workdir)
        failed = 0
        try:
            counter = iter(range(10**9))
            last = args.snapshots - 50
            cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
                ("namespaces", lambda: get(url, token, "namespaces"), explorer.namespaces),
                ("tables: first page of 100", lambda: get(url, token, "tables?limit=100"), explorer.tables),
                (
                    "tables: filter 'table_05'",
                    lambda: get(url, token, "tables?filter=table_05"),
                    lambda: explorer.tables(filter_text="table_05"),
                ),
                (
                    "tables: one namespace, last page",
                    lambda: get(url, token, "tables?namespace=ns09&offset=50&limit=50"),
                    lambda: explorer.tables("ns09", offset=50, limit=50),
                ),
                ("changes (refresh poll)", lambda: get(url, token, "changes"), explorer.changes),
                (
                    "table detail (same table)",
                    lambda: get(url, token, "tables/ns03/table_0300"),
                    lambda: explorer.detail("ns03", "table_0300"),
                ),
                (
                    "table detail (a different table each time)",
                    lambda: _detail_rotating(url, token, next(counter), args.tables),
                    lambda: _detail_rotating_local(explorer, next(counter), args.tables),
                ),
                (
                    f"table detail, {args.snapshots} snapshots",
                    lambda: get(url, token, "tables/big/history"),
                    lambda: explorer.detail("big", "history"),
                ),
                (
                    f"snapshots page 1 of {args.snapshots}",
                    lambda: get(url, token, "tables/big/history/snapshots?limit=50"),
                    lambda: explorer.snapshots("big", "history", limit=50),
                ),
                (
                    f"snapshots last page of {args.snapshots}",
                    lambda: get(
                        url, token, f"tables/big/history/snapshots?offset={args.snapshots - 50}&limit=50"
                    ),
                    lambda: explorer.snapshots("big", "history", offset=last, limit=50),
                ),
            ]
            for name, over_http, local in cases:
                ours = median_time(over_http, args.repeat)
                baseline = median_time(local, args.repeat)
                report(f"rest {name}", ours, baseline, "in-process", TARGET, unit="ms")
                failed += ours > 0.2
            cold = _parse_long_metadata(home)
            print(f"parse of the {args.snapshots}-snapshot metadata (first request after a commit): "
                  f"{cold * 1000:.0f} ms", flush=True)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            explorer.close()
    return 1 if failed else 0


def _detail_rotating(url: str, token: str, i: int, tables: int) -> Any:
    n = (i * 37) % tables
    return get(url, token, f"tables/ns{n // 100:02d}/table_{n:04d}")


def _detail_rotating_local(explorer: Any, i: int, tables: int) -> Any:
    n = (i * 41) % tables
    return explorer.detail(f"ns{n // 100:02d}", f"table_{n:04d}")


def _parse_long_metadata(home: Path) -> float:
    """Seconds to read and parse the long-history metadata file: what the first request after each
    commit to that table pays (later requests reuse the parsed table while its metadata is unchanged)."""
    from pyiceberg.io.pyarrow import PyArrowFileIO
    from pyiceberg.serializers import FromInputFile

    path = str(max(home.rglob("99999-*.metadata.json")))
    start = time.perf_counter()
    FromInputFile.table_metadata(PyArrowFileIO().new_input(path))
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
