from __future__ import annotations

import datetime as dt

import pytest

from ratatouille.errors import InvalidInput
from ratatouille.sqltext import (
    TableRef,
    find_placeholders,
    find_references,
    quote_identifier,
    quote_literal,
    validate_branch_name,
)


def test_references_found_in_code_only() -> None:
    sql = """
    SELECT * FROM {bronze.sales} s  -- not {x.y} in a comment
    JOIN {silver.customers@dev} c ON s.id = c.id /* nor {a.b} */
    WHERE match(s.code, '\\d{4}') AND s.name != '{q.r}' AND `{t.u}` = 1
    """
    refs = find_references(sql)
    assert [str(r) for r in refs] == ["bronze.sales", "silver.customers@dev"]


def test_regex_quantifiers_and_params_are_not_references() -> None:
    assert find_references("SELECT extract(x, '[0-9]{4}') FROM t WHERE a > {min_qty}") == []
    params = [f.param for f in find_placeholders("SELECT {a} + {b.c}", params=True) if f.param]
    assert params == ["a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bronze.sales", TableRef("bronze", "sales")),
        ("{bronze.sales}", TableRef("bronze", "sales")),
        ("bronze.sales@feature/new-kpis", TableRef("bronze", "sales", ref="feature/new-kpis")),
        ("bronze.sales@123", TableRef("bronze", "sales", snapshot_id=123)),
        (
            "bronze.sales@2024-01-02T03:04:05",
            TableRef("bronze", "sales", as_of=dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        ),
    ],
)
def test_parse(text: str, expected: TableRef) -> None:
    assert TableRef.parse(text) == expected


@pytest.mark.parametrize("bad", ["sales", "a.b.c", "1x.y", "a.b;drop", "", "a.b@..", "a.b@x y"])
def test_parse_refuses(bad: str) -> None:
    with pytest.raises(InvalidInput):
        TableRef.parse(bad)


def test_quoting() -> None:
    assert quote_identifier("a`b") == "`a\\`b`"
    assert quote_literal("it's \\ fine") == "'it\\'s \\\\ fine'"
    assert quote_literal(None) == "NULL"
    assert quote_literal(3) == "3"
    assert quote_literal(True) == "true"


@pytest.mark.parametrize("bad", ["", "a..b", "x/", "-x", "a b", "x" * 201])
def test_branch_names(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_branch_name(bad)
    assert validate_branch_name("feature/new-kpis_2.0") == "feature/new-kpis_2.0"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM {a.t}", [True]),
        ("SELECT * FROM {a.t} WHERE x", [True]),
        ("SELECT * FROM {a.t} t", [False]),
        ("SELECT * FROM {a.t} AS t", [False]),
        ("SELECT * FROM {a.t} `t`", [False]),
        ("SELECT * FROM {a.t}, {b.u} u WHERE 1", [True, False]),
        ("SELECT * FROM {a.t} JOIN {b.u} ON t.id = u.id", [True, True]),
        ("SELECT * FROM {a.t} LEFT JOIN {b.u} USING id", [True, True]),
        ("SELECT * FROM ({a.t})", [False]),
        ("SELECT x IN {a.t} FROM {b.u}\n", [False, True]),
        ("select * from\n  {a.t}\ngroup by 1", [True]),
    ],
)
def test_a_table_reference_without_alias_gets_its_name(sql: str, expected: list[bool]) -> None:
    from ratatouille.sqltext import needs_alias

    assert [needs_alias(sql, f) for f in find_placeholders(sql)] == expected
