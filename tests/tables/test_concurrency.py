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

    def writer(branch: str, base: int) -> None:
        lh = Lakehouse(rat.session.settings)  # its own session and catalog, as another process has
        lh.use_branch(branch)
        try:
            for i in range(batches):
                ids = list(range(base + i * 10, base + i * 10 + 10))
                lh.write(pa.table({"id": ids, "v": ["w"] * 10}), "bronze.r")
        except Exception as e:  # reported below: a thread's exception would be lost
            errors.append(e)
        finally:
            lh.close()

    # One writer on main, one on another branch (whose commits race main's in another way: pyiceberg's
    # sequence-number check rather than the branch's ref check).
    threads = [threading.Thread(target=writer, args=a) for a in (("main", 10_000), ("side", 20_000))]
    for thread in threads:
        thread.start()
    catalog, rounds = rat.session.catalog, 0
    while any(t.is_alive() for t in threads) or rounds < 2:
        compact(catalog, "bronze.r", target_file_bytes=1 << 20)
        expire(catalog, "bronze.r", older_than="0s", retain_last=1, lineage=rat._registry())
        remove_orphans(catalog, "bronze.r", older_than="1h")
        rounds += 1
    for thread in threads:
        thread.join()
    assert not errors, errors
    expected = 40 + batches * 10
    result = rat.query("SELECT count() AS n, uniqExact(id) AS u FROM {bronze.r}").to_dict("records")
    assert result == [{"n": expected, "u": expected}]
    assert len(rat.session.catalog.load_table("bronze.r").scan().to_arrow()) == expected
    side = rat.query("SELECT count() AS n, uniqExact(id) AS u FROM {bronze.r@side} WHERE id >= 20000")
    assert side.to_dict("records") == [{"n": batches * 10, "u": batches * 10}]
