"""Main lists no table that exists only on a branch, also after a failed write on the branch."""

from __future__ import annotations

import pytest

from ratatouille.sdk import Rat
from ratatouille.session import Lakehouse

from .injection import Fault, armed
from .invariants import Checks, lists_no_branch_only
from .paths import frame
from .tally import TALLY


def test_main_lists_no_branch_only_table(lakehouse: Lakehouse) -> None:
    rat = Rat(lakehouse)
    rat.ice_ingest_df(frame(range(3), "a"), "listing.on_main")
    rat.dev_start("side")
    rat.ice_ingest_df(frame(range(3), "b"), "listing.only_here")
    with armed(Fault("commit_started", "conn_lost")), pytest.raises(Exception, match="injected"):
        rat.ice_ingest_df(frame(range(3), "c"), "listing.failed_here")
    checks = Checks()
    checks.check(lists_no_branch_only(rat, "listing", ["listing.only_here", "listing.failed_here"]))
    setup = lakehouse.settings.describe()["catalog_uri"].split(":")[0]
    TALLY.add(path="branch-only table listing", setup=setup, checks=checks.run, violations=0,
              known_bug=bool(checks.violations))  # fmt: skip
    assert checks.violations == []
