"""Merge against a pandas model, on random tables: NULLs, nested types, duplicate keys (hypothesis).

Each example writes a random target, merges a random change batch by ``id`` and compares the table with
the model (the target's rows, each replaced by the batch's row of the same key, plus the batch's new keys).
A batch with a duplicate key must be refused with one clear error and leave the table as it was.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ratatouille.errors import InvalidInput
from ratatouille.session import Lakehouse

from .invariants import Checks, head_of, missing_files
from .tally import TALLY

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("n", pa.int64()),
        pa.field("s", pa.string()),
        pa.field("l", pa.list_(pa.int64())),
        pa.field("st", pa.struct([pa.field("a", pa.int64()), pa.field("b", pa.string())])),
        pa.field("m", pa.map_(pa.string(), pa.int64())),
    ]
)
settings.register_profile(
    "faults",
    max_examples=20,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_names = itertools.count()

small = st.integers(-1000, 1000)
text = st.text(alphabet="abcxyz é", max_size=5)
values = st.fixed_dictionaries(
    {
        "n": st.none() | small,
        "s": st.none() | text,
        "l": st.none() | st.lists(st.none() | small, max_size=3),
        "st": st.none() | st.fixed_dictionaries({"a": st.none() | small, "b": st.none() | text}),
        "m": st.none() | st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), st.none() | small, max_size=2),
    }
)


def batch(keys: list[int], draw_values: list[dict[str, Any]]) -> pa.Table:
    rows = [
        {"id": k, **v, "m": None if v["m"] is None else list(v["m"].items())}
        for k, v in zip(keys, draw_values, strict=False)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


@st.composite
def tables(draw: st.DrawFn, keys: st.SearchStrategy[list[int]]) -> pa.Table:
    ks = draw(keys)
    return batch(ks, [draw(values) for _ in ks])


target_keys = st.lists(st.integers(0, 30), min_size=1, max_size=12, unique=True)
change_keys = st.lists(st.integers(0, 40), min_size=1, max_size=10, unique=True)


def canonical(table: pa.Table) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples (maps as sorted item lists, so order inside a map does not matter)."""
    out = []
    for row in table.select(SCHEMA.names).to_pylist():
        m = row["m"]
        row["m"] = (
            None if m is None else tuple(sorted((k, v) for k, v in (m.items() if isinstance(m, dict) else m)))
        )
        row["l"] = None if row["l"] is None else tuple(row["l"])
        row["st"] = None if row["st"] is None else tuple(sorted(row["st"].items()))
        out.append(tuple(row[c] for c in SCHEMA.names))
    return sorted(out, key=repr)


def model_merge(target: pa.Table, change: pa.Table) -> pa.Table:
    """The pandas model of a merge by ``id``: the batch's rows replace the target's, new keys are added."""
    old = target.to_pandas(maps_as_pydicts="strict").set_index("id")
    new = change.to_pandas(maps_as_pydicts="strict").set_index("id")
    merged = pd.concat([old.drop(index=[i for i in new.index if i in old.index]), new]).reset_index()
    merged["m"] = [None if m is None else list(m.items()) for m in merged["m"]]
    return pa.Table.from_pandas(merged, schema=SCHEMA, preserve_index=False)


def read(lh: Lakehouse, ident: str) -> pa.Table:
    table = lh.catalog.load_table(ident)
    return table.scan(snapshot_id=head_of(table)).to_arrow()


@pytest.fixture
def lh(lakehouse: Lakehouse) -> Lakehouse:
    return lakehouse


@settings(settings.get_profile("faults"))
@given(target=tables(target_keys), change=tables(change_keys))
def test_merge_matches_the_pandas_model(lh: Lakehouse, target: pa.Table, change: pa.Table) -> None:
    ident = f"props.merge_{next(_names)}"
    checks = Checks()
    lh.write(target, ident, mode="overwrite")
    result = lh.write(change, ident, mode="merge", merge_keys=["id"])
    want = model_merge(target, change)
    got = read(lh, ident)
    checks.check([] if canonical(got) == canonical(want) else [f"merge differs from the model: {ident}"])
    existing = set(target.column("id").to_pylist())
    updated = sum(1 for k in change.column("id").to_pylist() if k in existing)
    checks.check(
        [] if (result.updated, result.inserted) == (updated, change.num_rows - updated) else ["counts"]
    )
    checks.check(missing_files(lh.catalog.load_table(ident)))
    TALLY.add(path="merge (property)", setup=lh.settings.describe()["catalog_uri"].split(":")[0],
              checks=checks.run, violations=len(checks.violations))  # fmt: skip
    assert checks.violations == []


@settings(settings.get_profile("faults"), max_examples=8)
@given(target=tables(target_keys), change=tables(change_keys), dup=st.integers(0, 9))
def test_a_batch_with_a_duplicate_key_is_refused_and_changes_nothing(
    lh: Lakehouse, target: pa.Table, change: pa.Table, dup: int
) -> None:
    ident = f"props.dup_{next(_names)}"
    lh.write(target, ident, mode="overwrite")
    before = head_of(lh.catalog.load_table(ident))
    doubled = pa.concat_tables([change, change.slice(dup % change.num_rows, 1)])
    with pytest.raises(InvalidInput, match="more than once"):
        lh.write(doubled, ident, mode="merge", merge_keys=["id"])
    assert head_of(lh.catalog.load_table(ident)) == before
    assert canonical(read(lh, ident)) == canonical(target)
    TALLY.add(
        path="merge (property)",
        setup=lh.settings.describe()["catalog_uri"].split(":")[0],
        checks=2,
        violations=0,
    )
