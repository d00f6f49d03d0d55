"""Maintenance racing a writer that appends in a loop: no row is lost, none is duplicated."""

from __future__ import annotations

import threading

import pyarrow as pa

from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse
from ratatouille.tables import compact, expire, remove_orphans

from .conftest import small_files


def test_compaction_expiry_and_the_sweep_racing_a_writer_lose_nothing(rat: Rat) -> None:
    small_files(rat, "bronze.r", 4, n=10)
    batches, errors = 12, []

    def writer() -> None:
        lh = Lakehouse(rat.session.settings)  # its own session and catalog, as another process has
        try:
            for i in range(batches):
                ids = list(range(10_000 + i * 10, 10_000 + i * 10 + 10))
                lh.write(pa.table({"id": ids, "v": ["w"] * 10}), "bronze.r")
        except Exception as e:  # reported below: a thread's exception would be lost
            errors.append(e)
        finally:
            lh.close()

    thread = threading.Thread(target=writer)
    thread.start()
    catalog, rounds = rat.session.catalog, 0
    while thread.is_alive() or rounds < 2:
        compact(catalog, "bronze.r", target_file_bytes=1 << 20)
        expire(catalog, "bronze.r", older_than="0s", retain_last=1, lineage=rat._registry())
        remove_orphans(catalog, "bronze.r", older_than="1h")
        rounds += 1
    thread.join()
    assert not errors, errors
    result = rat.query("SELECT count() AS n, uniqExact(id) AS u FROM {bronze.r}").to_dict("records")
    assert result == [{"n": 40 + batches * 10, "u": 40 + batches * 10}]
    assert len(rat.session.catalog.load_table("bronze.r").scan().to_arrow()) == 40 + batches * 10
