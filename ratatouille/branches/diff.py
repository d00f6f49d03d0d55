"""``dev_diff``: what a branch changed in one table against main, by key or by whole row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..reading import MAIN, resolve, source_sql
from ..sqltext import TableRef, quote_identifier
from ..tables.commit import PROPERTY_PREFIX

if TYPE_CHECKING:
    import pandas as pd

    from ..session import Lakehouse

_SETTINGS = {"join_use_nulls": 1}


@dataclass
class BranchDiff:
    """A bounded summary of a branch's changes to one table.

    Attributes:
        table: ``namespace.table``.
        branch: The branch compared with main.
        key: The key columns used (empty: whole rows were compared).
        added: Rows (or keys) on the branch and not on main.
        removed: Rows (or keys) on main and not on the branch.
        changed: Keys present on both with different values (None without a key).
        schema: Columns ``added``, ``removed`` and ``retyped`` (name: "old -> new").
        sample: Up to ``limit`` example rows per kind, with a ``change`` column.
    """

    table: str
    branch: str
    key: list[str]
    added: int
    removed: int
    changed: int | None
    schema: dict[str, Any] = field(default_factory=dict)
    sample: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        """The diff as plain data (the sample as records)."""
        out = dict(self.__dict__)
        out["sample"] = [] if self.sample is None else self.sample.to_dict("records")
        return out

    def __repr__(self) -> str:
        by = f"by {', '.join(self.key)}" if self.key else "by whole row"
        changed = "" if self.changed is None else f", {self.changed} changed"
        schema = "; schema: " + str(self.schema) if any(self.schema.values()) else ""
        return (f"<diff {self.table} {self.branch} vs main ({by}): {self.added} added, "
                f"{self.removed} removed{changed}{schema}>")  # fmt: skip


def _recorded_keys(lh: Lakehouse, table: str, branch: str) -> list[str]:
    from ..catalog import load_table

    t = load_table(lh.catalog, table, branch)
    ref = t.metadata.refs.get(branch)
    current = ref.snapshot_id if ref else None
    while current is not None:
        snap = t.metadata.snapshot_by_id(current)
        if snap is None:
            break
        keys = (snap.summary.additional_properties if snap.summary else {}).get(
            f"{PROPERTY_PREFIX}merge_keys"
        )
        if keys:
            return keys.split(",")
        current = snap.parent_snapshot_id
    return []


def diff(lh: Lakehouse, table: str, branch: str, key: list[str] | None = None, limit: int = 20) -> BranchDiff:
    """Compare ``table`` on ``branch`` with main.

    Args:
        lh: The session.
        table: ``namespace.table``.
        branch: The branch.
        key: Key columns; defaults to the merge keys recorded by the branch's writes, else whole rows.
        limit: Example rows per kind of change.
    """
    ref = TableRef.parse(table)
    ident = ref.identifier
    on_branch = resolve(lh.catalog, TableRef(ref.namespace, ref.name, ref=branch))
    on_main = resolve(lh.catalog, TableRef(ref.namespace, ref.name, ref=MAIN), branch)  # empty if created
    b_cols = {f.name: str(f.field_type) for f in on_branch.schema.fields}
    m_cols = {f.name: str(f.field_type) for f in on_main.schema.fields}
    schema = {
        "added": [c for c in b_cols if c not in m_cols],
        "removed": [c for c in m_cols if c not in b_cols],
        "retyped": {
            c: f"{m_cols[c]} -> {b_cols[c]}" for c in b_cols if c in m_cols and m_cols[c] != b_cols[c]
        },
    }
    common = [c for c in b_cols if c in m_cols]
    keys = list(key) if key else _recorded_keys(lh, ident, branch)
    missing = [k for k in keys if k not in common]
    if missing:
        raise InvalidInput(f"key column(s) {', '.join(missing)} are not in both versions of {ident}")
    engine = lh.engine
    b_sql, m_sql = source_sql(engine, on_branch), source_sql(engine, on_main)
    row_hash = f"cityHash64(toString(tuple({', '.join(quote_identifier(c) for c in common)})))"
    if keys:
        k = ", ".join(quote_identifier(c) for c in keys)
        joined = (
            f"(SELECT {k}, {row_hash} AS h, 1 AS p FROM {b_sql}) AS b FULL OUTER JOIN "
            f"(SELECT {k}, {row_hash} AS h, 1 AS p FROM {m_sql}) AS m USING ({k})"
        )
        kind = ("multiIf(b.p = 1 AND m.p IS NULL, 'added', m.p = 1 AND b.p IS NULL, 'removed', "
                "b.h != m.h, 'changed', '')")  # fmt: skip
        counts = engine.query_arrow(
            f"SELECT countIf(c = 'added') AS a, countIf(c = 'removed') AS r, countIf(c = 'changed') AS ch "
            f"FROM (SELECT {kind} AS c FROM {joined})",
            settings=_SETTINGS,
        ).to_pylist()[0]
        sample = engine.query_arrow(
            f"SELECT c AS change, {k} FROM (SELECT {kind} AS c, {k} FROM {joined}) WHERE c != '' "
            f"ORDER BY change, {k} LIMIT {int(limit)} BY change",
            settings=_SETTINGS,
        ).to_pandas()
        return BranchDiff(ident, branch, keys, counts["a"], counts["r"], counts["ch"], schema, sample)
    grouped = (
        f"SELECT h, sum(bc) AS nb, sum(mc) AS nm FROM ("
        f"SELECT {row_hash} AS h, 1 AS bc, 0 AS mc FROM {b_sql} UNION ALL "
        f"SELECT {row_hash} AS h, 0 AS bc, 1 AS mc FROM {m_sql}) GROUP BY h HAVING nb != nm"
    )
    counts = engine.query_arrow(
        f"SELECT sum(greatest(nb - nm, 0)) AS a, sum(greatest(nm - nb, 0)) AS r FROM ({grouped})"
    ).to_pylist()[0]
    cols = ", ".join(quote_identifier(c) for c in common)
    sample = engine.query_arrow(
        f"SELECT change, {cols} FROM ("
        f"SELECT 'added' AS change, {cols}, {row_hash} AS h FROM {b_sql} "
        f"UNION ALL SELECT 'removed' AS change, {cols}, {row_hash} AS h FROM {m_sql}) "
        f"WHERE (change = 'added' AND h IN (SELECT h FROM ({grouped}) WHERE nb > nm)) "
        f"OR (change = 'removed' AND h IN (SELECT h FROM ({grouped}) WHERE nm > nb)) "
        f"LIMIT {int(limit)} BY change"
    ).to_pandas()
    return BranchDiff(ident, branch, [], int(counts["a"] or 0), int(counts["r"] or 0), None, schema, sample)
