"""Bad input: one clear error, and the table's head and history unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ratatouille.errors import InvalidInput, NotFound, RatError
from ratatouille.sdk import Rat
from ratatouille.tables import parse_duration

from .conftest import head, small_files


def test_parse_duration() -> None:
    assert parse_duration("0s") == dt.timedelta(0)
    assert parse_duration("90m") == dt.timedelta(minutes=90)
    assert parse_duration(" 36h ") == dt.timedelta(hours=36)
    assert parse_duration("7d") == dt.timedelta(days=7)
    assert parse_duration(dt.timedelta(hours=2)) == dt.timedelta(hours=2)
    for bad in ("7", "7 days", "-1d", "1.5h", "", 7, None, dt.timedelta(seconds=-1)):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


CASES: list[tuple[Callable[[Rat], Any], type[RatError], str]] = [
    (lambda r: r.ice_compact("bronze.nope"), NotFound, "does not exist"),
    (lambda r: r.ice_compact("bronze.t", sort_by=["id", "nope"]), InvalidInput, "cannot sort by 'nope'"),
    (lambda r: r.ice_compact("bronze.t", target_file_mb=-1), InvalidInput, "positive number"),
    (lambda r: r.ice_compact("not a table"), InvalidInput, "invalid table name"),
    (lambda r: r.ice_expire("bronze.t", older_than="soon"), InvalidInput, "like '90m'"),
    (lambda r: r.ice_expire("bronze.t", older_than="0s", retain_last=-1), InvalidInput, "retain_last"),
    (lambda r: r.ice_expire("bronze.t", older_than="0s", retain_last=0), InvalidInput, "retain_last"),
    (lambda r: r.ice_expire("bronze.nope"), NotFound, "does not exist"),
    (lambda r: r.ice_remove_orphans("bronze.nope"), NotFound, "does not exist"),
    (lambda r: r.ice_remove_orphans("bronze.t", older_than="5m"), InvalidInput, "at least"),
    (lambda r: r.ice_maintain("bronze.nope"), NotFound, "does not exist"),
    (lambda r: r.ice_policy("bronze.t", retain_last=-3), InvalidInput, "at least 1"),
    (lambda r: r.ice_policy("bronze.t", max_snapshot_age="forever"), InvalidInput, "max_snapshot_age"),
    (lambda r: r.ice_policy("bronze.t", colour="red"), InvalidInput, "unknown maintenance setting"),
    (lambda r: r.ice_policy("bronze.t", target_file_bytes=10, small_file_bytes=20), InvalidInput, "exceed"),
    (lambda r: r.ice_policy("bronze.t", enabled="yes"), InvalidInput, "True or False"),
]


@pytest.mark.parametrize("call, error, message", CASES)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    local_rat: Rat, call: Callable[[Rat], Any], error: type[RatError], message: str
) -> None:
    small_files(local_rat, "bronze.t", 3, n=5)
    table = local_rat.session.catalog.load_table("bronze.t")
    before = (head(local_rat, "bronze.t"), len(table.metadata.snapshots), dict(table.metadata.properties))
    with pytest.raises(error, match=message):
        call(local_rat)
    table = local_rat.session.catalog.load_table("bronze.t")
    after = (head(local_rat, "bronze.t"), len(table.metadata.snapshots), dict(table.metadata.properties))
    assert after == before


def test_main_only_calls_are_refused_on_a_dev_branch(local_rat: Rat) -> None:
    small_files(local_rat, "bronze.t", 2, n=5)
    local_rat.dev_start("work")
    for call in (lambda: local_rat.ice_expire("bronze.t"), lambda: local_rat.ice_maintain(),
                 lambda: local_rat.ice_remove_orphans("bronze.t")):  # fmt: skip
        with pytest.raises(InvalidInput, match=r"switch back with rat\.dev"):
            call()
    with pytest.raises(NotFound, match="no branch 'work'"):  # not on the branch yet: main is not touched
        local_rat.ice_compact("bronze.t")


def test_a_stored_property_that_cannot_be_read_is_named(local_rat: Rat) -> None:
    small_files(local_rat, "bronze.t", 1, n=5)
    table = local_rat.session.catalog.load_table("bronze.t")
    table.transaction().set_properties({"history.expire.min-snapshots-to-keep": "many"}).commit_transaction()
    with pytest.raises(InvalidInput, match=r"history\.expire\.min-snapshots-to-keep='many'"):
        local_rat.ice_policy("bronze.t")
