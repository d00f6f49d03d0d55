"""The conformance table: every check of the suite, its case, its direction and its result today.

This is the one place a result is written down. A check expected ``wrong`` or ``refused`` runs as a strict
xfail (``wrong``: the comparison fails; ``refused``: ratatouille raises one of its own errors), so a fix
turns it into an XPASS failure until its line here says ``equal``. docs/interop.md's table is rendered
from this module (``python -m tests.interop.outcomes`` rewrites it) and a test checks the two agree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ratatouille.errors import InvalidInput, RatError

READ = "read"  # ratatouille reads a table another implementation wrote
WRITE = "written"  # other implementations read a table ratatouille wrote

EQUAL, REFUSED, WRONG = "equal", "refused", "wrong"
FAILS = "fails"  # an error that is no deliberate refusal (an engine error on valid input)

CASES = [
    "rename",
    "drop / re-add",
    "reorder",
    "nested rename",
    "type promotion",
    "position deletes",
    "equality deletes",
    "spec evolution",
    "branches",
    "v2 and v3 format",
    "write paths",
]


@dataclass(frozen=True)
class Check:
    """One check: a case, a direction, the result today and what it compares."""

    case: str
    direction: str
    result: str
    what: str
    why: str = ""
    #: What a refusal raises: ratatouille's own errors, unless a library's error passes through.
    raises: type[Exception] = RatError


# fmt: off
CHECKS: dict[str, Check] = {
    # -- ratatouille reads tables written by pyiceberg and chDB ----------------------------------------
    "rename_head": Check("rename", READ, EQUAL, "head after `rename_column`, no write since"),
    "rename_then_append": Check("rename", READ, EQUAL, "rename, then an append"),
    "rename_time_travel": Check("rename", READ, EQUAL, "the snapshot before the rename (`@<id>`)"),
    "drop_readd": Check("drop / re-add", READ, EQUAL, "drop `amount`, add `amount` again, append"),
    "reorder": Check("reorder", READ, EQUAL, "`move_first`, then an append"),
    "reorder_head": Check("reorder", READ, EQUAL, "`move_first`, no write since"),
    "nested_rename": Check("nested rename", READ, EQUAL, "rename a struct field, then an append"),
    "promotion": Check("type promotion", READ, EQUAL, "int to long, float to double, decimal(9,2) to "
                       "decimal(18,2); files before and after"),
    "position_deletes": Check("position deletes", READ, EQUAL, "chDB `ALTER TABLE ... DELETE` "
                              "(-deletes.parquet), registered; and after `ice_compact`"),
    "equality_deletes": Check("equality deletes", READ, EQUAL, "an equality delete file on `id`, "
                              "then an append of a deleted id (oracle: iceberg-rust); and after "
                              "`ice_compact`",
                              "pyiceberg's own scan refuses equality deletes"),
    "deletes_after_rename": Check("equality deletes", READ, EQUAL, "an equality delete file on `v`, "
                                  "then `v` renamed to `label`, an append and a position delete "
                                  "(oracle: iceberg-rust); and after `ice_compact`"),
    "spec_evolution": Check("spec evolution", READ, EQUAL, "identity(region), then day(ts) added and "
                            "region removed; full read and a pruned read"),
    "spec_evolution_replaced": Check("spec evolution", READ, EQUAL,
                                     "day(ts), then replaced by identity(region)",
                                     "values come from the files, not from `key=value` folders"),
    "branch": Check("branches", READ, EQUAL, "pyiceberg appends on branch `audit`; `@audit` and main"),
    "v2_chdb": Check("v2 and v3 format", READ, EQUAL, "a v2 table written by chDB, registered"),
    "v3_chdb": Check("v2 and v3 format", READ, EQUAL, "a v3 table written by chDB, registered"),
    # -- pyiceberg and iceberg-rust read tables written by ratatouille ----------------------------------
    "w_append": Check("write paths", WRITE, EQUAL, "append (twice)"),
    "w_overwrite": Check("write paths", WRITE, EQUAL, "overwrite"),
    "w_overwrite_partitions": Check("write paths", WRITE, EQUAL,
                                    "overwrite_partitions of a partitioned table"),
    "w_merge": Check("write paths", WRITE, EQUAL, "merge (update + insert)"),
    "w_delete": Check("write paths", WRITE, EQUAL, "delete (`ice_delete`, files rewritten)"),
    "w_partitioned": Check("write paths", WRITE, EQUAL, "partitioned by day(ts), bucket(4, id), identity"),
    "w_new_column": Check("write paths", WRITE, EQUAL, "schema evolution by write: a new column"),
    "w_promotion": Check("type promotion", WRITE, EQUAL, "promotion by write: int then long values"),
    "w_spec_evolution": Check("spec evolution", WRITE, EQUAL, "identity(region), `ice_partition` to day(ts), "
                              "an append"),
    "w_branch": Check("branches", WRITE, EQUAL, "a dev branch's writes (branch head), then published"),
    "w_v2": Check("v2 and v3 format", WRITE, EQUAL, "every table above is format v2"),
    "w_v3": Check("v2 and v3 format", WRITE, REFUSED, "append to a v3 table (written by chDB)",
                  "pyiceberg 0.11 writes no v3 manifest or metadata file: every write and commit to a v3 "
                  "table is refused with `InvalidInput` before any file is written", raises=InvalidInput),
}
# fmt: on

NOT_WRITTEN = {
    "rename": "ratatouille never renames a column",
    "drop / re-add": "ratatouille never drops a column",
    "reorder": "ratatouille never reorders columns",
    "nested rename": "ratatouille never renames a field",
    "position deletes": "ratatouille writes no delete files (copy-on-write)",
    "equality deletes": "ratatouille writes no delete files (copy-on-write)",
}

F = TypeVar("F", bound=Callable[..., Any])
REGISTERED: set[str] = set()


def marks(name: str) -> list[pytest.MarkDecorator]:
    """The marks of the check ``name``: a strict xfail when its result is not ``equal``."""
    found = CHECKS[name]
    REGISTERED.add(name)
    if found.result == WRONG:
        return [pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"wrong: {found.why}")]
    if found.result in (REFUSED, FAILS):
        return [pytest.mark.xfail(strict=True, raises=found.raises, reason=f"{found.result}: {found.why}")]
    return []


def check(name: str) -> Callable[[F], F]:
    """Mark a test as the check ``name`` (see :func:`marks`)."""
    found = marks(name)

    def mark(func: F) -> F:
        for one in found:
            func = one(func)
        return func

    return mark


def _cell(case: str, direction: str) -> str:
    mine = [c for c in CHECKS.values() if c.case == case and c.direction == direction]
    if not mine:
        return f"n/a: {NOT_WRITTEN[case]}" if direction == WRITE else "n/a"
    parts = []
    for c in mine:
        note = f" ({c.why})" if c.why else ""
        parts.append(f"**{c.result}**: {c.what}{note}")
    return "<br>".join(parts)


def render() -> str:
    """The conformance table, as Markdown."""
    lines = [
        "| case | ratatouille reads others' tables | others read ratatouille's tables |",
        "|---|---|---|",
    ]
    lines += [f"| {case} | {_cell(case, READ)} | {_cell(case, WRITE)} |" for case in CASES]
    return "\n".join(lines)


DOC = Path(__file__).resolve().parents[2] / "docs" / "interop.md"
START, END = "<!-- conformance table: start -->", "<!-- conformance table: end -->"


def table_in_doc(text: str) -> str:
    """The table between the markers of docs/interop.md."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def write_doc() -> None:
    """Rewrite the table of docs/interop.md from :data:`CHECKS`."""
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{render()}\n{END}{tail}")


if __name__ == "__main__":
    write_doc()
    sys.stdout.write(f"wrote {DOC}\n")
