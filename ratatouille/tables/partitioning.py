"""Partition specs from ``partition_by=`` text, and the partitions a write touches.

``partition_by`` is a list of Iceberg transforms written as a user would write them in SQL:
``"region"`` (identity), ``"year(ts)"``, ``"month(ts)"``, ``"day(ts)"``, ``"hour(ts)"``,
``"bucket(16, user_id)"``, ``"truncate(4, name)"`` (Spark's plural ``days(ts)`` is accepted too). A table
gets its spec when it is created; a write to an existing table whose ``partition_by`` differs is refused
(never a silent rewrite), and :func:`evolve_spec` changes the spec of new data explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.partitioning import PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.table import Transaction
    from pyiceberg.transforms import Transform

_TERM_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_TIME_TRANSFORMS = {"year": "year", "years": "year", "month": "month", "months": "month",
                    "day": "day", "days": "day", "date": "day", "hour": "hour", "hours": "hour"}  # fmt: skip
_WIDTH_TRANSFORMS = ("bucket", "truncate")
EXAMPLES = "'region', 'day(event_ts)', 'bucket(16, user_id)', 'truncate(4, name)'"


def normalize_partition_by(partition_by: str | Sequence[str] | None) -> list[str] | None:
    """``partition_by`` as a list of terms (a single string may hold several, comma-separated at top level).

    Raises:
        InvalidInput: Not a string or a list of strings.
    """
    if partition_by is None:
        return None
    if isinstance(partition_by, str):
        terms = _split_top_level(partition_by)
    elif isinstance(partition_by, list | tuple) and all(isinstance(t, str) for t in partition_by):
        terms = [t.strip() for t in partition_by]
    else:
        raise InvalidInput(f"partition_by takes a list of terms such as {EXAMPLES}; got {partition_by!r}")
    terms = [t for t in terms if t]
    if not terms:
        raise InvalidInput(f"partition_by is empty: name at least one term, such as {EXAMPLES}")
    return terms


def _split_top_level(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return out


def parse_term(term: str) -> tuple[str, str, int | None]:
    """Split one term: ``"bucket(16, id)"`` -> (``"bucket"``, ``"id"``, 16), ``"region"`` -> identity.

    Raises:
        InvalidInput: The term is not a known transform of one column.
    """
    match = _TERM_RE.match(term)
    if not match:
        raise InvalidInput(
            f"invalid partition term {term!r}: write a column or a transform, such as {EXAMPLES}"
        )
    name, args = match.group(1), match.group(2)
    if args is None:
        return "identity", name, None
    parts = [a.strip() for a in args.split(",")]
    lowered = name.lower()
    if lowered in ("identity",) and len(parts) == 1:
        return "identity", parts[0], None
    if lowered in _TIME_TRANSFORMS and len(parts) == 1:
        return _TIME_TRANSFORMS[lowered], parts[0], None
    if lowered in _WIDTH_TRANSFORMS and len(parts) == 2:
        # Iceberg's SQL order is bucket(N, col); col first is accepted too.
        width, column = (parts[0], parts[1]) if parts[0].isdigit() else (parts[1], parts[0])
        if not width.isdigit() or int(width) <= 0:
            raise InvalidInput(
                f"invalid partition term {term!r}: {lowered} needs a positive width, e.g. {lowered}(16, col)"
            )
        return lowered, column, int(width)
    known = "identity, year, month, day, hour, bucket(N, col), truncate(W, col)"
    raise InvalidInput(f"unknown partition transform {term!r}: use one of {known}")


def _transform(kind: str, width: int | None) -> Transform[Any, Any]:
    from pyiceberg.transforms import (
        BucketTransform,
        DayTransform,
        HourTransform,
        IdentityTransform,
        MonthTransform,
        TruncateTransform,
        YearTransform,
    )

    simple: dict[str, Transform[Any, Any]] = {
        "identity": IdentityTransform(), "year": YearTransform(), "month": MonthTransform(),
        "day": DayTransform(), "hour": HourTransform(),
    }  # fmt: skip
    if kind in simple:
        return simple[kind]
    assert width is not None
    return BucketTransform(width) if kind == "bucket" else TruncateTransform(width)


def _field_name(kind: str, column: str, width: int | None) -> str:
    if kind == "identity":
        return column
    return f"{column}_{kind}" if width is None else f"{column}_{kind}_{width}"


def build_spec(partition_by: Iterable[str], schema: Schema, table: str) -> PartitionSpec:
    """The partition spec of ``partition_by`` over ``schema`` (fresh field ids from 1000).

    Raises:
        InvalidInput: An unknown column or transform, a transform that does not apply to the column's
            type, or the same term twice.
    """
    from pyiceberg.partitioning import PartitionField, PartitionSpec

    fields, seen = [], set()
    for i, term in enumerate(partition_by):
        kind, column, width = parse_term(term)
        source = _find_column(schema, column, table, term)
        transform = _transform(kind, width)
        if not transform.can_transform(source.field_type):
            raise InvalidInput(
                f"partition term {term!r} of {table}: {kind} does not apply to column {column!r} "
                f"of type {source.field_type}"
            )
        name = _field_name(kind, column, width)
        if name in seen:
            raise InvalidInput(f"partition term {term!r} of {table} is given twice")
        seen.add(name)
        fields.append(
            PartitionField(source_id=source.field_id, field_id=1000 + i, transform=transform, name=name)
        )
    return PartitionSpec(*fields)


def _find_column(schema: Schema, column: str, table: str, term: str) -> Any:
    try:
        return schema.find_field(column, case_sensitive=True)
    except ValueError:
        columns = ", ".join(f.name for f in schema.fields) or "none"
        raise InvalidInput(
            f"partition term {term!r}: {table} has no column {column!r} (its columns: {columns})"
        ) from None


def describe_spec(spec: PartitionSpec, schema: Schema) -> list[str]:
    """A spec written back as ``partition_by`` terms (``["day(event_ts)", "bucket(16, user_id)"]``)."""
    from pyiceberg.transforms import BucketTransform, IdentityTransform, TruncateTransform

    out = []
    for field in spec.fields:
        column = schema.find_column_name(field.source_id) or f"<field {field.source_id}>"
        t = field.transform
        if isinstance(t, IdentityTransform):
            out.append(column)
        elif isinstance(t, BucketTransform):
            out.append(f"bucket({t.num_buckets}, {column})")
        elif isinstance(t, TruncateTransform):
            out.append(f"truncate({t.width}, {column})")
        else:
            out.append(f"{t}({column})")
    return out


def same_spec(spec: PartitionSpec, other: PartitionSpec) -> bool:
    """Equal as partitioning (source columns and transforms), whatever the field ids and names."""

    def key(s: PartitionSpec) -> list[tuple[int, str]]:
        return [(f.source_id, str(f.transform)) for f in s.fields]

    return key(spec) == key(other)


def check_spec(partition_by: list[str] | None, schema: Schema, spec: PartitionSpec, table: str) -> None:
    """Refuse a ``partition_by`` that differs from an existing table's spec.

    Raises:
        InvalidInput: The spec differs; the message says how to change a table's partitioning.
    """
    if partition_by is None:
        return
    wanted = build_spec(partition_by, schema, table)
    if not same_spec(wanted, spec):
        now = ", ".join(describe_spec(spec, schema)) or "nothing (unpartitioned)"
        raise InvalidInput(
            f"{table} is partitioned by {now}, not by {', '.join(partition_by)}; to change it for new data, "
            f"call rat.ice_partition({table!r}, {partition_by!r}) (existing files keep their partitioning)"
        )


def evolve_spec(tx: Transaction, partition_by: list[str], table: str) -> None:
    """Stage a new partition spec for new data in ``tx`` (existing files keep theirs: no rewrite)."""
    schema = tx.table_metadata.schema()
    wanted = build_spec(partition_by, schema, table)
    current = tx.table_metadata.spec()
    if same_spec(wanted, current):
        return
    with tx.update_spec() as update:
        for field in current.fields:
            update.remove_field(field.name)
        for field in wanted.fields:
            column = schema.find_column_name(field.source_id)
            assert column is not None
            update.add_field(column, field.transform, field.name)


def repartition(catalog: Catalog, target: str, partition_by: str | Sequence[str]) -> list[str]:
    """Give a table a new partition spec for new data in one commit; return its terms.

    Raises:
        InvalidInput: Bad terms; the table is unchanged.
        NotFound: No such table.
    """
    from ..catalog import load_table
    from .commit import retrying, transaction

    terms = normalize_partition_by(partition_by) or []

    def attempt() -> list[str]:
        table = load_table(catalog, target)
        tx = transaction(table)
        evolve_spec(tx, terms, target)
        tx.commit_transaction()
        return describe_spec(table.spec(), table.schema())

    return retrying(attempt, f"commit to {target}")
