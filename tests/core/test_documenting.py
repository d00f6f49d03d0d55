"""Documented tables: column docs and table properties, kept across writes, read by other readers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import ratatouille
from ratatouille import Rat
from ratatouille.catalog import open_catalog
from ratatouille.cli import main
from ratatouille.documenting import check_dictionary, describe, looks_like_pii, write_dictionary
from ratatouille.errors import InvalidInput, NotFound
from ratatouille.session import Lakehouse


@pytest.fixture
def users(lakehouse: Lakehouse) -> Rat:
    """``bronze.users`` (id, email, total, address.city) on each setup."""
    r = Rat(lakehouse)
    df = pd.DataFrame({"id": [1, 2], "email": ["a@x", "b@x"], "total": [1.5, 2.0]})
    df["address"] = [{"city": "Lyon"}, {"city": "Nice"}]
    r.ice_ingest_df(df, "bronze.users")
    return r


def _fresh_table(lakehouse: Lakehouse, identifier: str):  # type: ignore[no-untyped-def]
    """The table as another process sees it: a catalog of its own."""
    return open_catalog(lakehouse.settings).load_table(identifier)


def test_set_read_and_clear(users: Rat, lakehouse: Lakehouse) -> None:
    doc = users.ice_document(
        "bronze.users",
        description="One row per user",
        columns={"total": "price x qty", "address.city": "where they live"},
        owner="ana",
        tags=["core", "daily", "core"],
        pii=["email", "address.city"],
    )
    assert (doc.description, doc.owner, doc.tags, doc.pii) == (
        "One row per user", "ana", ["core", "daily"], ["email", "address.city"],
    )  # fmt: skip
    columns = {c.name: c for c in doc.columns}
    assert columns["total"].doc == "price x qty" and columns["total"].type == "double"
    assert columns["address.city"].doc == "where they live" and columns["address.city"].pii
    assert columns["email"].pii and not columns["id"].pii and columns["id"].doc is None
    assert doc.rows == 2 and doc.snapshot_id is not None and doc.updated is not None
    assert users.ice_doc("bronze.users") == doc

    # Another reader (its own catalog) sees Iceberg column docs and table properties.
    table = _fresh_table(lakehouse, "bronze.users")
    assert table.schema().find_field("total").doc == "price x qty"
    assert table.schema().find_field("address.city").doc == "where they live"
    props = table.metadata.properties
    assert props["ratatouille.description"] == "One row per user" and props["ratatouille.owner"] == "ana"
    assert json.loads(props["ratatouille.tags"]) == ["core", "daily"]
    assert json.loads(props["ratatouille.pii"]) == ["email", "address.city"]

    # Only the values given change; "" and [] clear.
    users.ice_document("bronze.users", owner="bo")
    after = users.ice_doc("bronze.users")
    assert (after.description, after.owner, after.tags) == ("One row per user", "bo", ["core", "daily"])
    cleared = users.ice_document("bronze.users", description="", tags=[], pii=[], columns={"total": ""})
    assert (cleared.description, cleared.tags, cleared.pii, cleared.owner) == (None, [], [], "bo")
    assert {c.name: c.doc for c in cleared.columns}["total"] is None
    props = _fresh_table(lakehouse, "bronze.users").metadata.properties
    assert not {"ratatouille.description", "ratatouille.tags", "ratatouille.pii"} & set(props)


def test_one_commit_and_nothing_when_unchanged(users: Rat, lakehouse: Lakehouse) -> None:
    before = _fresh_table(lakehouse, "bronze.users")
    users.ice_document("bronze.users", description="d", columns={"id": "key"}, tags=["t"])
    table = _fresh_table(lakehouse, "bronze.users")
    # One new metadata file for the schema docs and the properties together.
    assert [e.metadata_file for e in table.metadata.metadata_log][-1] == before.metadata_location
    assert len(table.metadata.metadata_log) == len(before.metadata.metadata_log) + 1
    users.ice_document("bronze.users", description="d", columns={"id": "key"}, tags=["t"])
    assert _fresh_table(lakehouse, "bronze.users").metadata_location == table.metadata_location


def test_docs_survive_writes_and_schema_evolution(users: Rat, lakehouse: Lakehouse) -> None:
    users.ice_document("bronze.users", description="users", columns={"id": "key", "total": "sum"},
                       owner="ana", pii=["email"])  # fmt: skip
    more = pd.DataFrame({"id": [3], "email": ["c@x"], "total": [3.0], "country": ["FR"]})
    more["address"] = [{"city": "Paris"}]
    users.ice_ingest_df(more, "bronze.users")  # append with a new column
    users.ice_merge(more.assign(total=[4.0]), "bronze.users", merge_keys="id")
    users.ice_ingest_df(more, "bronze.users", mode="overwrite")
    users.transform("SELECT id, email, total * 2 AS total FROM {bronze.users}", "silver.users")
    doc = users.ice_doc("bronze.users")
    assert (doc.description, doc.owner, doc.pii) == ("users", "ana", ["email"])
    assert {c.name: c.doc for c in doc.columns} == {
        "id": "key", "email": None, "total": "sum", "address": None, "address.city": None, "country": None,
    }  # fmt: skip
    assert doc.rows == 1
    assert _fresh_table(lakehouse, "bronze.users").schema().find_field("id").doc == "key"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"description": 3}, InvalidInput, "description must be a string"),
        ({"owner": ["a"]}, InvalidInput, "owner must be a string"),
        ({"tags": "a,b"}, InvalidInput, "tags must be a list of strings"),
        ({"tags": ["a", 1]}, InvalidInput, "non-empty strings"),
        ({"columns": {"nope": "x"}}, InvalidInput, "no column 'nope'"),
        ({"columns": {"id": 1}}, InvalidInput, "description of column 'id' must be a string"),
        ({"columns": ["id"]}, InvalidInput, "columns must map"),
        ({"pii": ["email", "phone"]}, InvalidInput, "pii: the table has no column 'phone'"),
    ],
)
def test_bad_input_changes_nothing(
    users: Rat, lakehouse: Lakehouse, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    # Good values given together with the bad one: none of them is stored.
    before = _fresh_table(lakehouse, "bronze.users").metadata_location
    with pytest.raises(error, match=message):
        users.ice_document("bronze.users", **{"description": "d", "columns": {"id": "k"}, **kwargs})  # type: ignore[arg-type]
    assert _fresh_table(lakehouse, "bronze.users").metadata_location == before
    assert users.ice_doc("bronze.users").description is None


def test_unknown_table(lakehouse: Lakehouse) -> None:
    r = Rat(lakehouse)
    with pytest.raises(NotFound):
        r.ice_document("bronze.nope", description="x")
    with pytest.raises(NotFound):
        describe(lakehouse.catalog, "bronze.nope")
    with pytest.raises(InvalidInput):
        r.ice_doc("not a table")


def test_looks_like_pii() -> None:
    for name in ("email", "user_email", "emailAddress", "phone_number", "ssn", "client_ip", "birth_date",
                 "home_address", "first_name", "lastName", "dob", "contact.mobile"):  # fmt: skip
        assert looks_like_pii(name), name
    for name in ("id", "zip", "shipping", "total", "name", "product_name", "description", "ipo"):
        assert not looks_like_pii(name), name


def test_dictionary_pages(users: Rat, lakehouse: Lakehouse, tmp_path: Path) -> None:
    users.ice_document("bronze.users", description="One row per user.\nFrom the app.", owner="ana",
                       tags=["core"], columns={"total": "price | qty"}, pii=["email", "address"])  # fmt: skip
    users.ice_ingest_df(pd.DataFrame({"day": ["2024-01-01"]}), "silver.days")
    written = write_dictionary(lakehouse, tmp_path / "dict")
    assert [p.name for p in written] == ["bronze.md", "silver.md", "README.md"]
    bronze = (tmp_path / "dict" / "bronze.md").read_text()
    assert "## bronze.users\n\nOne row per user.\nFrom the app." in bronze
    assert "| owner | ana |" in bronze and "| tags | `core` |" in bronze and "| rows | 2 |" in bronze
    assert "| `total` | `double` | price \\| qty |  |" in bronze
    assert "| `email` | `string` |  | **PII** |" in bronze
    assert "| `address.city` | `string` |  | **PII** |" in bronze  # the struct's mark covers it
    assert "(snapshot " in bronze and " UTC" in bronze
    silver = (tmp_path / "dict" / "silver.md").read_text()
    assert "## silver.days\n\n_No description._" in silver and "| owner | — |" in silver
    index = (tmp_path / "dict" / "README.md").read_text()
    assert "| [bronze.users](bronze.md#bronzeusers) | One row per user. | ana | 2 |" in index
    assert "| [silver.days](silver.md#silverdays) |  |  | 1 |" in index
    assert [str(p) for p in check_dictionary(lakehouse)] == [
        "silver.days: no description (rat.ice_document(..., description=...))"
    ]


def test_cli_docs_and_check(
    users: Rat, lakehouse: Lakehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(ratatouille, "rat", users)
    monkeypatch.chdir(tmp_path)
    assert main(["docs"]) == 0
    out = capsys.readouterr().out
    assert "docs/data/bronze.md" in out and "docs/data/README.md" in out
    assert (tmp_path / "docs" / "data" / "bronze.md").exists()
    assert main(["docs", "--out", "elsewhere"]) == 0
    assert (tmp_path / "elsewhere" / "README.md").exists()
    capsys.readouterr()

    assert main(["docs", "--check"]) == 1
    out = capsys.readouterr().out
    assert "bronze.users: no description" in out
    assert "bronze.users.email: looks like personal data but is not marked PII" in out
    assert "bronze.users.address: looks like" in out and "address.city" not in out
    users.ice_document("bronze.users", description="users", pii=["email", "address"])
    assert main(["docs", "--check"]) == 0
    assert "no documentation problems" in capsys.readouterr().out


def test_on_a_dev_branch(users: Rat, lakehouse: Lakehouse, tmp_path: Path) -> None:
    users.dev_start("feature")
    users.ice_ingest_df(pd.DataFrame({"k": [1]}), "silver.new")  # created on the branch only
    assert (
        users.ice_document("silver.new", description="made on the branch").description == "made on the branch"
    )
    users.ice_document("bronze.users", owner="ana")  # the table's documentation: main sees it too
    written = write_dictionary(lakehouse, tmp_path / "dev")
    assert "## silver.new\n\nmade on the branch" in (tmp_path / "dev" / "silver.md").read_text()
    assert len(written) == 3
    users.dev()  # back to main
    assert users.ice_doc("bronze.users").owner == "ana"
    with pytest.raises(NotFound):
        users.ice_doc("silver.new")
