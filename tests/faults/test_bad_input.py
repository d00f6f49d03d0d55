"""Bad input on every write path: one clear error, and every table's head exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from ratatouille.errors import RatError
from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse

from .invariants import Checks, head_of, missing_files
from .paths import frame
from .tally import TALLY

T = "bad.t"


BAD: dict[str, tuple[str, Callable[[Rat], Any]]] = {
    "append: a text value in an integer column": (
        "append",
        lambda rat: rat.ice_ingest_df(pd.DataFrame({"id": ["x"], "v": ["a"]}), T),
    ),
    "overwrite: an unknown mode": (
        "overwrite",
        lambda rat: rat.ice_ingest_df(frame([1], "a"), T, mode="replace"),
    ),
    "overwrite_partitions: an unpartitioned table": (
        "overwrite",
        lambda rat: rat.ice_ingest_df(frame([1], "a"), T, mode="overwrite_partitions"),
    ),
    "merge: a key column missing": ("merge", lambda rat: rat.ice_merge(frame([1], "a"), T, ["nope"])),
    "merge: a NULL key": (
        "merge",
        lambda rat: rat.ice_merge(pd.DataFrame({"id": [None, 1.0], "v": ["a", "b"]}), T, "id"),
    ),
    "merge: a duplicate key": ("merge", lambda rat: rat.ice_merge(frame([1, 1], "a"), T, ["id"])),
    "delete: an unknown column": ("delete", lambda rat: rat.ice_delete(T, "nope = 1")),
    "delete: a predicate that does not parse": ("delete", lambda rat: rat.ice_delete(T, "id = = 1")),
    "ingest: no such files": (
        "ingest",
        lambda rat: rat.ice_ingest_batch("nothing/here/", T, skip_existing=True),
    ),
    "publish: no such branch": ("publish", lambda rat: rat.dev_merge("nope")),
    "publish: main moved since the branch": ("publish", lambda rat: rat.dev_merge("moved")),
    "compaction: an unknown sort column": ("compaction", lambda rat: rat.ice_compact(T, sort_by=["nope"])),
    "compaction: a negative target size": ("compaction", lambda rat: rat.ice_compact(T, target_file_mb=-1)),
    "expiry: retain no snapshot": ("expiry", lambda rat: rat.ice_expire(T, older_than="0s", retain_last=0)),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_clear_error_and_changes_nothing(lakehouse: Lakehouse, case: str) -> None:
    rat = Rat(lakehouse)
    path, call = BAD[case]
    rat.ice_ingest_df(frame(range(10), "a"), T)
    before = head_of(lakehouse.catalog.load_table(T))
    if case == "publish: main moved since the branch":
        rat.dev_start("moved")
        rat.ice_ingest_df(frame([1], "x"), T)
        rat.dev(None)
        rat.ice_ingest_df(frame([2], "y"), T)
        before = head_of(lakehouse.catalog.load_table(T))
    with pytest.raises(RatError) as info:
        call(rat)
    checks = Checks()
    table = lakehouse.catalog.load_table(T)
    checks.check([] if head_of(table) == before else [f"{case}: the head moved"])
    checks.check(missing_files(table))
    checks.check([] if str(info.value).strip() and "\n" not in str(info.value).strip() else ["not one line"])
    TALLY.add(path=f"{path} (bad input)", setup=lakehouse.settings.describe()["catalog_uri"].split(":")[0],
              checks=checks.run, violations=len(checks.violations))  # fmt: skip
    assert checks.violations == [], str(info.value)
