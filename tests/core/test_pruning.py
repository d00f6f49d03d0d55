"""File pruning: which SQL conditions become Iceberg filters, and that pruning never changes a result."""

from __future__ import annotations

import datetime as dt
import os
import random
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    NotNull,
    Or,
)
from pyiceberg.expressions.literals import DateLiteral, FloatLiteral, TimestampLiteral
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
    TimestamptzType,
)

from ratatouille.session import Lakehouse
from ratatouille.sql import predicate_filter, pruning_disabled, reference_filters, table_filter

SCHEMA = Schema(
    NestedField(1, "id", LongType()),
    NestedField(2, "i", IntegerType()),
    NestedField(3, "x", DoubleType()),
    NestedField(4, "f", FloatType()),
    NestedField(5, "s", StringType()),
    NestedField(6, "d", DateType()),
    NestedField(7, "ts", TimestamptzType()),
    NestedField(8, "n", TimestampType()),
    NestedField(9, "b", BooleanType()),
    NestedField(10, "dec", DecimalType(10, 2)),
    NestedField(11, "Mixed", LongType()),
)
DAY_US = 86_400_000_000
JAN2_US = 1_704_153_600_000_000  # 2024-01-02 00:00 UTC


def filter_of(sql: str, key: str = "b.t", schemas: list[Schema] | None = None) -> BooleanExpression:
    return table_filter(reference_filters(sql)[key], SCHEMA, schemas or [SCHEMA], SCHEMA)


def where(predicate: str) -> BooleanExpression:
    return filter_of(f"SELECT * FROM {{b.t}} WHERE {predicate}")


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("id = 5", EqualTo("id", 5)),
        ("5 < id", GreaterThan("id", 5)),
        ("id >= -3", GreaterThanOrEqual("id", -3)),
        ("id = 5.0", EqualTo("id", 5)),
        ("i IN (1, 2)", In("i", [1, 2])),
        ("id BETWEEN 1 AND 3", And(GreaterThanOrEqual("id", 1), LessThanOrEqual("id", 3))),
        ("x > 1.5", GreaterThan("x", 1.5)),
        ("x <= 2", LessThanOrEqual("x", 2.0)),
        ("f = 0.5", EqualTo("f", FloatLiteral(0.5))),
        ("s = 'O''Brien'", EqualTo("s", "O'Brien")),
        ("s IS NULL", IsNull("s")),
        ("s IS NOT NULL AND isNull(x)", And(NotNull("s"), IsNull("x"))),
        ("`Mixed` = 1", EqualTo("Mixed", 1)),
        ("b = true", EqualTo("b", True)),
        ("d = '2024-01-02'", EqualTo("d", DateLiteral(19724))),
        ("d >= toDate('2024-01-02')", GreaterThanOrEqual("d", DateLiteral(19724))),
        ("d < CAST('2024-01-02' AS Date32)", LessThan("d", DateLiteral(19724))),
        ("ts >= '2024-01-02'", GreaterThanOrEqual("ts", TimestampLiteral(JAN2_US))),
        ("ts < '2024-01-02 00:00:00.5'", LessThan("ts", TimestampLiteral(JAN2_US + 500_000))),
        ("ts = toDateTime('2024-01-02', 'UTC')", EqualTo("ts", TimestampLiteral(JAN2_US))),
        ("n > toDateTime64('2024-01-02 00:00:00', 6, 'UTC')", GreaterThan("n", TimestampLiteral(JAN2_US))),
        # Read in the engine's session time zone, which is UTC: exact on a column without zone too.
        ("n >= '2024-01-02'", GreaterThanOrEqual("n", TimestampLiteral(JAN2_US))),
        ("ts < toDateTime('2024-01-02')", LessThan("ts", TimestampLiteral(JAN2_US))),
        ("n = '2024-01-02'", EqualTo("n", TimestampLiteral(JAN2_US))),
        ("(id = 1 OR id = 2) AND s = 'x'", And(Or(EqualTo("id", 1), EqualTo("id", 2)), EqualTo("s", "x"))),
        ("id > 1 AND id + 1 = 3", GreaterThan("id", 1)),  # an unknown conjunct is dropped
    ],
)
def test_conditions_that_prune(predicate: str, expected: BooleanExpression) -> None:
    assert where(predicate) == expected


@pytest.mark.parametrize(
    "predicate",
    [
        "id != 5",
        "NOT id = 5",
        "id NOT IN (1, 2)",
        "id = 1 OR id + 1 = 3",  # an unknown part of an OR
        "id + 1 = 5",
        "toDate(ts) = '2024-01-02'",
        "CAST(id AS String) = '5'",
        "id = i",
        "id = {p:Int64}",
        "id IN (SELECT 1)",
        "id IN (1, NULL)",
        "id = NULL",
        "id = '5'",  # an integer column and a string: ClickHouse converts, we do not guess
        "s = 5",
        "dec = 1.5",
        "f = 0.1",  # not a Float32 value: ClickHouse compares in Float64
        "id = 5.5",
        "i = 3000000000",
        "id = 99999999999999999999",
        "b > false",
        "d = '2024-1-2'",
        "d >= toDate('1900-01-01')",  # clamped to 1970 by the engine
        "d = toDateTime('2024-01-02 00:00:00')",
        "ts = '2024-01-02 00:00:00.1234567'",
        "ts = '2024-01-02T00:00:00Z'",
        "ts = toDateTime('2024-01-02', 'Europe/Paris')",
        "unknown = 1",
        "mixed = 1",  # identifiers are case-sensitive
        "s = 'a\\'b'",  # backslash escapes: strings are not trusted
        "s LIKE 'a%'",
        "x",
    ],
)
def test_conditions_that_do_not_prune(predicate: str) -> None:
    assert where(predicate) == AlwaysTrue()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM {b.t} AS a WHERE a.id = 1", EqualTo("id", 1)),
        ("SELECT * FROM {b.t} PREWHERE id > 1 WHERE id < 9", And(GreaterThan("id", 1), LessThan("id", 9))),
        ("WITH q AS (SELECT * FROM {b.t} WHERE id = 1) SELECT count() FROM q", EqualTo("id", 1)),
        ("SELECT * FROM (SELECT id FROM {b.t} WHERE id = 1) WHERE id > 0", EqualTo("id", 1)),
        ("SELECT id, count() FROM {b.t} WHERE id = 1 GROUP BY id HAVING count() > 1", EqualTo("id", 1)),
        (
            "SELECT * FROM {b.t} WHERE id = 1 UNION ALL SELECT * FROM {b.t} WHERE id = 2",
            Or(EqualTo("id", 1), EqualTo("id", 2)),
        ),
        (
            "SELECT * FROM {b.t} AS a JOIN {c.u} AS o ON a.id = o.id WHERE a.id = 1 AND o.k = 2",
            EqualTo("id", 1),
        ),
        ("SELECT * FROM {b.t} AS a, {c.u} AS o WHERE a.id = 1", EqualTo("id", 1)),
        ("SELECT * FROM {b.t} AS a LEFT JOIN {c.u} AS o ON a.id = o.id WHERE a.id = 1", EqualTo("id", 1)),
        ("SELECT -id AS id FROM {b.t} AS a WHERE a.id > 5", GreaterThan("id", 5)),  # qualified: the column
    ],
)
def test_where_the_conditions_are_taken(sql: str, expected: BooleanExpression) -> None:
    assert filter_of(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM {b.t} WHERE id = 1 UNION ALL SELECT * FROM {b.t}",  # one use reads everything
        "SELECT * FROM {b.t} WHERE id IN (SELECT id FROM {b.t})",
        "SELECT * FROM (SELECT * FROM {b.t} LIMIT 5) WHERE id > 3",  # outer WHERE after a LIMIT
        "SELECT * FROM (SELECT id, row_number() OVER () AS r FROM {b.t}) WHERE id = 3",
        "SELECT id FROM {b.t} GROUP BY id HAVING id > 3",
        "SELECT -id AS id FROM {b.t} WHERE id > 5",  # the alias shadows the column in ClickHouse
        "WITH 5 AS id SELECT * FROM {b.t} WHERE id > 1",
        # An expression aliased like the table: `a.id` is then the element `id` of that expression.
        "SELECT tuple(-id AS id) AS a FROM {b.t} AS a WHERE a.id > 5",
        "WITH a AS (SELECT 1 AS id) SELECT * FROM {b.t} AS a WHERE a.id > 5",
        "SELECT * FROM {b.t} WHERE b.t.id = 1",
        "SELECT * FROM {c.u} AS o LEFT JOIN {b.t} AS a ON a.id = o.id WHERE a.id = 1",  # nullable side
        "SELECT * FROM {c.u} AS o FULL JOIN {b.t} AS a ON a.id = o.id WHERE a.id = 1",
        "SELECT * FROM {b.t} AS a ANY JOIN {c.u} AS o ON a.id = o.id WHERE a.id = 1",
        "SELECT * FROM {b.t} AS a ASOF JOIN {c.u} AS o ON a.id = o.id AND a.n >= o.n WHERE a.id = 1",
        "SELECT * FROM {b.t} AS a JOIN {c.u} AS o ON a.id = o.id WHERE id = 1",  # unqualified in a join
        "SELECT * FROM {b.t} ARRAY JOIN arr WHERE id = 1",
        "SELECT * FROM {b.t} FINAL WHERE id = 1",
        "SELECT * FROM {b.t} WHERE id = 1 SELECT",  # does not parse
        "SELECT * FROM {b.t} WHERE id = 1; SELECT 1",
        "SELECT * FROM {b.t} WHERE __rat_ref_0 = 1",
    ],
)
def test_where_the_conditions_are_not_taken(sql: str) -> None:
    assert filter_of(sql) == AlwaysTrue()


def test_a_column_changed_in_the_table_history_is_used_by_field_id() -> None:
    renamed = Schema(*[f for f in SCHEMA.fields if f.name != "id"], NestedField(1, "key", LongType()))
    retyped = Schema(*[f for f in SCHEMA.fields if f.name != "i"], NestedField(2, "i", LongType()))
    recreated = Schema(*[f for f in SCHEMA.fields if f.name != "s"], NestedField(99, "s", StringType()))
    # File statistics are kept by field id: a rename or a new field id prunes like any column.
    assert filter_of("SELECT * FROM {b.t} WHERE id = 1", schemas=[renamed, SCHEMA]) == EqualTo("id", 1)
    assert filter_of("SELECT * FROM {b.t} WHERE s = 'a'", schemas=[recreated, SCHEMA]) == EqualTo("s", "a")
    # A retyped field: its older bounds are not decoded right, its null counts are used.
    assert filter_of("SELECT * FROM {b.t} WHERE i = 1", schemas=[retyped, SCHEMA]) == AlwaysTrue()
    retyped_null = "SELECT * FROM {b.t} WHERE i IS NULL AND (i > 1 OR i IS NOT NULL)"
    assert filter_of(retyped_null, schemas=[retyped, SCHEMA]) == IsNull("i")
    both = "SELECT * FROM {b.t} WHERE id = 1 AND x = 2"
    assert filter_of(both, schemas=[SCHEMA]) == And(EqualTo("id", 1), EqualTo("x", 2.0))
    # Dropped from the current schema: Iceberg could not bind it, so the filter does not use it.
    current = Schema(*[f for f in SCHEMA.fields if f.name != "x"])
    cond = reference_filters(both)["b.t"]
    assert table_filter(cond, SCHEMA, [SCHEMA, current], current) == EqualTo("id", 1)
    # An older snapshot's names (time travel) are bound to the current names of the same field ids,
    # even where the current schema gave the old name to another field.
    now = Schema(
        *[f for f in SCHEMA.fields if f.name not in ("id", "x")],
        NestedField(1, "key", LongType()),
        NestedField(100, "id", LongType()),
        NestedField(101, "x", DoubleType()),
    )
    assert table_filter(cond, SCHEMA, [SCHEMA, now], now) == EqualTo("key", 1)
    assert table_filter(
        reference_filters("SELECT * FROM {b.t} WHERE id = 1")["b.t"], now, [SCHEMA, now], now
    ) == (EqualTo("id", 1))


def test_predicate_filter() -> None:
    assert predicate_filter("id IN (42, 43)", SCHEMA) == In("id", [42, 43])
    assert predicate_filter("d < '2024-01-02' AND s IS NULL", SCHEMA) == And(
        LessThan("d", DateLiteral(19724)), IsNull("s")
    )
    unprovens = ["t.id = 1", "id IN (SELECT 1)", "id = 1; DROP TABLE x", "NOT id = 1", "", "id =",
                "(-i AS id) < 0 AND id > 5"]  # fmt: skip
    for unproven in unprovens:
        assert predicate_filter(unproven, SCHEMA) == AlwaysTrue(), unproven


# -- reads through the engine, on every setup ----------------------------------------------------------

BATCHES, PER_BATCH = 12, 20
EXAMPLES = int(os.environ.get("RAT_TEST_PRUNING_EXAMPLES", "40"))  # raise it for a longer hunt
STRINGS = ["", "a", "ab", "b", "ba", "c", "zz"]
FLOATS = [-1.5, 0.0, 0.25, 2.5, 10.0, 99.5]
T0 = dt.datetime(2024, 1, 1)


def many_files_table(lh: Lakehouse, table: str = "b.t") -> None:
    """A table of one file per append, ids and times increasing from file to file, NULLs everywhere."""
    rnd = random.Random(7)

    def maybe(value: Any) -> Any:
        return None if rnd.random() < 0.15 else value

    for batch in range(BATCHES):
        ids = range(batch * PER_BATCH, (batch + 1) * PER_BATCH)
        stamps = [T0 + dt.timedelta(hours=batch * 30 + k * 2) for k in range(PER_BATCH)]
        data = {
            "id": pa.array(ids, pa.int64()),
            "grp": pa.array([maybe(rnd.randrange(10)) for _ in ids], pa.int32()),
            "x": pa.array([maybe(rnd.choice([*FLOATS, float("nan")])) for _ in ids], pa.float64()),
            "f": pa.array([maybe(rnd.choice([0.1, 0.5, 2.0])) for _ in ids], pa.float32()),
            "s": pa.array([maybe(rnd.choice(STRINGS)) for _ in ids], pa.string()),
            "d": pa.array([maybe(s.date()) for s in stamps], pa.date32()),
            "ts": pa.array([maybe(s.replace(tzinfo=dt.UTC)) for s in stamps], pa.timestamp("us", tz="UTC")),
            "n": pa.array([maybe(s) for s in stamps], pa.timestamp("us")),
            "b": pa.array([maybe(k % 2 == 0) for k in range(PER_BATCH)], pa.bool_()),
        }
        lh.write(pa.table(data), table)


def both_ways(lh: Lakehouse, sql: str) -> tuple[list[Any], list[Any], list[tuple[int, int]]]:
    pruned = lh.expand(sql)
    actual = lh.query_arrow(sql).to_pylist()
    with pruning_disabled():
        assert all(r.planned_files == r.total_files for r in lh.expand(sql).reads)
        expected = lh.query_arrow(sql).to_pylist()
    return actual, expected, [(r.planned_files, r.total_files) for r in pruned.reads]


def day(draw_day: int) -> str:
    return f"2024-01-{draw_day:02d}"


LITERAL_ATOMS = {
    "id": st.integers(-5, BATCHES * PER_BATCH + 5).map(str),
    "grp": st.integers(-1, 10).map(str),
    "x": st.sampled_from([*FLOATS, 1, 3, 100]).map(str),
    "f": st.sampled_from(["0.5", "2.0", "0.1", "1"]),
    "s": st.sampled_from(STRINGS).map(lambda v: f"'{v}'"),
    "d": st.integers(1, 20).flatmap(lambda v: st.sampled_from([f"'{day(v)}'", f"toDate('{day(v)}')"])),
    "ts": st.tuples(st.integers(1, 17), st.integers(0, 23)).flatmap(
        lambda v: st.sampled_from(
            [
                f"'{day(v[0])} {v[1]:02d}:00:00'",
                f"toDateTime('{day(v[0])} {v[1]:02d}:00:00', 'UTC')",
                f"toDateTime64('{day(v[0])} {v[1]:02d}:00:00', 6, 'UTC')",
                f"toDate('{day(v[0])}')",
                f"'{day(v[0])}'",
            ]
        )
    ),
}
LITERAL_ATOMS["n"] = LITERAL_ATOMS["ts"]


@st.composite
def atoms(draw: st.DrawFn) -> str:
    column = draw(st.sampled_from([*LITERAL_ATOMS, "b"]))
    ref = f"@.{column}"
    if column == "b":
        return draw(st.sampled_from([f"{ref} = true", f"{ref} = false", f"{ref} IS NULL"]))
    value = LITERAL_ATOMS[column]
    shape = draw(st.sampled_from(["cmp", "cmp", "cmp", "in", "between", "null", "notnull", "ne"]))
    if shape == "cmp":
        op = draw(st.sampled_from(["=", "<", "<=", ">", ">="]))
        left, right = (ref, draw(value)) if draw(st.booleans()) else (draw(value), ref)
        return f"{left} {op} {right}"
    if shape == "in":
        return f"{ref} IN ({', '.join(draw(st.lists(value, min_size=1, max_size=3)))})"
    if shape == "between":
        return f"{ref} BETWEEN {draw(value)} AND {draw(value)}"
    if shape == "ne":
        return draw(st.sampled_from([f"{ref} != {draw(value)}", f"NOT ({ref} < {draw(value)})"]))
    return f"{ref} IS NULL" if shape == "null" else f"{ref} IS NOT NULL"


@st.composite
def predicates(draw: st.DrawFn) -> str:
    parts = draw(st.lists(atoms(), min_size=1, max_size=3))
    text = parts[0]
    for part in parts[1:]:
        text = f"({text}) {draw(st.sampled_from(['AND', 'AND', 'OR']))} {part}"
    return text


QUERIES = [
    "SELECT id FROM {b.t} WHERE {p} ORDER BY id",
    "SELECT id FROM {b.t} AS a WHERE {pa} ORDER BY id",
    "SELECT id FROM {b.t} WHERE ({p}) AND {q} ORDER BY id",
    "SELECT count() AS c, sum(id) AS s FROM (SELECT * FROM {b.t} WHERE {p}) WHERE id % 2 = 0",
    "SELECT * FROM (SELECT id FROM {b.t} WHERE {p} UNION ALL SELECT id FROM {b.t} WHERE {q}) ORDER BY id",
    "SELECT count() AS c, sum(a.id + o.id) AS s FROM {b.t} AS a JOIN {b.t@main} AS o ON a.grp = o.grp "
    "WHERE {pa} AND {qo}",
    "SELECT a.id, o.id AS oid FROM {b.t} AS a LEFT JOIN {b.t@main} AS o ON a.id = o.id + 20 "
    "WHERE {pa} AND {qo} ORDER BY a.id, oid",
]


def test_pruning_never_changes_a_result(lakehouse: Lakehouse) -> None:
    many_files_table(lakehouse)
    pruned_some: list[bool] = []
    # The conditions do not depend on the storage: S3 checks the pruned file lists with fewer examples.
    examples = EXAMPLES if not lakehouse.settings.warehouse.startswith("s3:") else max(5, EXAMPLES // 4)

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(template=st.sampled_from(QUERIES), p=predicates(), q=predicates())
    def check(template: str, p: str, q: str) -> None:
        sql = (
            template.replace("{pa}", p.replace("@.", "a."))
            .replace("{qo}", q.replace("@.", "o."))
            .replace("{p}", p.replace("@.", ""))
            .replace("{q}", q.replace("@.", ""))
        )
        actual, expected, counts = both_ways(lakehouse, sql)
        assert sorted(map(str, actual)) == sorted(map(str, expected)), sql
        pruned_some.append(any(planned < total for planned, total in counts))

    check()
    assert any(pruned_some)


def test_ranges_prune_files_on_min_max(lakehouse: Lakehouse) -> None:
    many_files_table(lakehouse)
    for sql, most in [
        ("SELECT id FROM {b.t} WHERE id BETWEEN 45 AND 52 ORDER BY id", 1),
        ("SELECT id FROM {b.t} WHERE ts >= '2024-01-03 06:00:00' AND ts < '2024-01-03 08:00:00'", 1),
        ("SELECT id FROM {b.t} WHERE d = '2024-01-05' AND s IS NOT NULL ORDER BY id", 2),
        ("SELECT id FROM {b.t} WHERE id IN (3, 250) OR id > 1000 ORDER BY id", 2),
        ("SELECT id FROM {b.t} WHERE id < 0", 0),
    ]:
        actual, expected, counts = both_ways(lakehouse, sql)
        assert actual == expected, sql
        assert counts[0][0] <= most and counts[0][1] == BATCHES, (sql, counts)
    # An unfiltered read, and what cannot be proven, read every file.
    for sql in [
        "SELECT count() FROM {b.t}",
        "SELECT id FROM {b.t} WHERE id + 0 = 3",
        "SELECT -id AS id FROM {b.t} WHERE id > -5 ORDER BY id",  # the alias, not the column
        # Unmatched rows of a LEFT JOIN get defaults (0): the nullable side must not be pruned.
        "SELECT a.id, o.id AS oid FROM {b.t@main} AS a LEFT JOIN {b.t} AS o ON a.id = o.id + 1000 "
        "WHERE o.id = 0 ORDER BY a.id",
    ]:
        actual, expected, counts = both_ways(lakehouse, sql)
        assert actual == expected, sql
        assert counts[-1] == (BATCHES, BATCHES), sql


def test_a_day_filter_on_a_day_partitioned_table(lakehouse: Lakehouse) -> None:
    catalog = lakehouse.catalog
    catalog.create_namespace("b")
    schema = Schema(
        NestedField(1, "id", LongType()),
        NestedField(2, "ts", TimestamptzType()),
        NestedField(3, "v", DoubleType()),
    )
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=DayTransform(), name="ts_day"))
    catalog.create_table("b.events", schema=schema, partition_spec=spec)
    stamps = [dt.datetime(2024, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=8 * k) for k in range(90)]
    data = pa.table(
        {
            "id": pa.array(range(90), pa.int64()),
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "v": pa.array([k / 4 for k in range(90)], pa.float64()),
        }
    )
    lakehouse.write(data, "b.events")  # one file per day
    sql = "SELECT id FROM {b.events} WHERE ts >= '2024-03-05' AND ts < '2024-03-06' ORDER BY id"
    actual, expected, counts = both_ways(lakehouse, sql)
    assert actual == expected == [{"id": 12}, {"id": 13}, {"id": 14}]
    ((planned, total),) = counts
    assert total == 30 and planned * 20 <= total
    # A plan is kept per table, snapshot and filter: the same query is not planned again.
    plan = lakehouse.expand(sql).reads[0]
    assert plan.pruned and plan.files is lakehouse.expand(sql).reads[0].files
    other = lakehouse.expand(sql.replace("03-06", "03-07")).reads[0]
    assert other.planned_files == 2 and other.files is not plan.files
