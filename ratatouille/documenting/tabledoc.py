"""Documentation of one table, stored in the table itself so that every engine reads the same.

Column descriptions are Iceberg column docs (the schema's ``doc`` field); the table's description,
owner, tags and PII marks are table properties under ``ratatouille.``:

* ``ratatouille.description``: text;
* ``ratatouille.owner``: text;
* ``ratatouille.tags``: a JSON list of strings;
* ``ratatouille.pii``: a JSON list of column names (``address.city`` for a nested field).

:func:`document` checks every value against the table before changing anything, then commits the schema
docs and the properties in one transaction (one new metadata file): a bad value changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import InvalidInput

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.schema import Schema
    from pyiceberg.table import Table
    from pyiceberg.types import NestedField

PREFIX = "ratatouille."
DESCRIPTION = f"{PREFIX}description"
OWNER = f"{PREFIX}owner"
TAGS = f"{PREFIX}tags"
PII = f"{PREFIX}pii"


class ColumnDoc(NamedTuple):
    """One column: its name (``a.b`` when nested), Iceberg type, description and PII mark."""

    name: str
    type: str
    doc: str | None
    pii: bool


@dataclass(frozen=True)
class TableDoc:
    """What a table's documentation says, and how fresh its data is.

    Attributes:
        identifier: ``namespace.table``.
        description: The table's description, or None.
        owner: Who answers for the table, or None.
        tags: Free tags, in the order given.
        pii: The columns marked as personal data (a struct's mark covers its fields).
        columns: Every column (struct fields nested as ``a.b``) with its type, doc and PII mark.
        snapshot_id: The head snapshot of the branch read (None for a table never written).
        updated: When that snapshot was committed (UTC), or None.
        rows: Its row count, when the snapshot records it.
    """

    identifier: str
    description: str | None = None
    owner: str | None = None
    tags: list[str] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)
    columns: list[ColumnDoc] = field(default_factory=list)
    snapshot_id: int | None = None
    updated: dt.datetime | None = None
    rows: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain values (columns as dicts, the time as ISO text), for JSON."""
        return {
            "identifier": self.identifier,
            "description": self.description,
            "owner": self.owner,
            "tags": list(self.tags),
            "pii": list(self.pii),
            "columns": [c._asdict() for c in self.columns],
            "snapshot_id": self.snapshot_id,
            "updated": None if self.updated is None else self.updated.isoformat(),
            "rows": self.rows,
        }


def describe(catalog: Catalog, identifier: str, branch: str | None = None) -> TableDoc:
    """The documentation of a table (as ``branch`` sees it; main when None).

    Raises:
        NotFound: No such table.
    """
    from ..catalog import load_table

    return table_doc(load_table(catalog, identifier, branch), identifier, branch)


def document(
    catalog: Catalog,
    identifier: str,
    *,
    description: str | None = None,
    columns: Mapping[str, str] | None = None,
    owner: str | None = None,
    tags: list[str] | None = None,
    pii: list[str] | None = None,
    branch: str | None = None,
) -> TableDoc:
    """Set some of a table's documentation; the values not given (None) stay as they are.

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``.
        description: The table's description (``""`` clears it).
        columns: Column name (``a.b`` for a nested field) -> its description (``""`` clears it).
        owner: The table's owner (``""`` clears it).
        tags: The table's tags, replacing the ones it had (``[]`` clears them).
        pii: The columns holding personal data, replacing the marked ones (``[]`` clears them).
        branch: The session's branch: a table created on a dev branch is found there. Documentation
            is not branched: it belongs to the table, on every branch.

    Returns:
        The documentation afterwards.

    Raises:
        NotFound: No such table.
        InvalidInput: A value of the wrong kind or an unknown column; nothing is changed.
        Conflict: Other commits kept winning; nothing is changed.
    """
    from ..catalog import load_table
    from ..tables.commit import retrying, transaction

    table = load_table(catalog, identifier, branch)
    checked = _check(table.schema(), description, columns, owner, tags, pii)

    def attempt() -> Table:
        current = load_table(catalog, identifier, branch)
        docs, props, removals = _changes(current, checked)
        if not (docs or props or removals):
            return current
        tx = transaction(current)
        if docs:
            with tx.update_schema() as update:
                for name, doc in docs.items():
                    update.update_column(name, doc=doc)
        if props:
            tx.set_properties(props)
        if removals:
            tx.remove_properties(*removals)
        return tx.commit_transaction()

    done = retrying(attempt, f"document {identifier}")
    return table_doc(done, identifier, branch)


@dataclass(frozen=True)
class _Checked:
    description: str | None
    owner: str | None
    tags: list[str] | None
    pii: list[str] | None
    columns: dict[str, str]


def _check(
    schema: Schema,
    description: Any,
    columns: Any,
    owner: Any,
    tags: Any,
    pii: Any,
) -> _Checked:
    """Every value checked against the schema before anything is committed."""
    for what, value in (("description", description), ("owner", owner)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{what} must be a string ('' clears it), got {type(value).__name__}")
    docs: dict[str, str] = {}
    if columns is not None:
        if not isinstance(columns, Mapping):
            raise InvalidInput(f"columns must map column names to descriptions, got {type(columns).__name__}")
        for name, doc in columns.items():
            column = _column(schema, name, "columns")
            if not isinstance(doc, str):
                raise InvalidInput(
                    f"the description of column {name!r} must be a string ('' clears it), "
                    f"got {type(doc).__name__}"
                )
            docs[column] = doc
    return _Checked(
        description=None if description is None else description.strip(),
        owner=None if owner is None else owner.strip(),
        tags=None if tags is None else _strings(tags, "tags"),
        pii=None if pii is None else [_column(schema, c, "pii") for c in _strings(pii, "pii")],
        columns=docs,
    )


def _strings(value: Any, what: str) -> list[str]:
    """A list of non-empty strings, stripped, repeats dropped (order kept)."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidInput(f"{what} must be a list of strings ([] clears them), got {value!r}")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput(f"{what} must be a list of non-empty strings, got {item!r} in {value!r}")
        if item.strip() not in out:
            out.append(item.strip())
    return out


def _column(schema: Schema, name: Any, what: str) -> str:
    """The column's full name as the schema spells it, or a clear error naming the columns."""
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{what}: a column is named by a non-empty string, got {name!r}")
    try:
        found = schema.find_column_name(schema.find_field(name).field_id)
    except ValueError:
        found = None
    if found is None:
        known = ", ".join(c.name for c in walk(schema))
        raise InvalidInput(f"{what}: the table has no column {name!r} (its columns: {known})")
    return found


def _changes(table: Table, checked: _Checked) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Column docs to update, properties to set and to remove: only what differs from the table."""
    schema, props = table.schema(), table.metadata.properties
    docs = {}
    for name, doc in checked.columns.items():
        try:
            current = schema.find_field(name).doc or ""
        except ValueError as e:  # dropped since the check: nothing was committed
            raise InvalidInput(f"columns: the table has no column {name!r} any more") from e
        if current != doc:
            docs[name] = doc
    wanted: dict[str, str | None] = {}
    if checked.description is not None:
        wanted[DESCRIPTION] = checked.description or None
    if checked.owner is not None:
        wanted[OWNER] = checked.owner or None
    if checked.tags is not None:
        wanted[TAGS] = json.dumps(checked.tags) if checked.tags else None
    if checked.pii is not None:
        wanted[PII] = json.dumps(checked.pii) if checked.pii else None
    sets = {k: v for k, v in wanted.items() if v is not None and props.get(k) != v}
    removals = [k for k, v in wanted.items() if v is None and k in props]
    return docs, sets, removals


def walk(schema: Schema) -> Iterator[ColumnDoc]:
    """Every column, struct fields after their parent as ``parent.child`` (list and map items are not)."""
    from pyiceberg.types import StructType

    def visit(fields: tuple[NestedField, ...], prefix: str) -> Iterator[ColumnDoc]:
        for f in fields:
            name = f"{prefix}{f.name}"
            yield ColumnDoc(name, str(f.field_type), f.doc or None, False)
            if isinstance(f.field_type, StructType):
                yield from visit(f.field_type.fields, f"{name}.")

    yield from visit(schema.fields, "")


def read_list(text: str | None) -> list[str]:
    """A stored list property: a JSON list of strings (or, set by hand elsewhere, comma-separated text)."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


def table_doc(table: Table, identifier: str, branch: str | None = None) -> TableDoc:
    """The documentation of a loaded table, with the freshness of its head on ``branch`` (else main)."""
    from ..reading import MAIN, head_snapshot_id

    props = table.metadata.properties
    pii = read_list(props.get(PII))
    # A struct marked PII marks its fields too.
    columns = [c._replace(pii=any(c.name == p or c.name.startswith(f"{p}.") for p in pii))
               for c in walk(table.schema())]  # fmt: skip
    head = head_snapshot_id(table, branch or MAIN) or head_snapshot_id(table, MAIN)
    snapshot = None if head is None else table.metadata.snapshot_by_id(head)
    rows = updated = None
    if snapshot is not None:
        updated = dt.datetime.fromtimestamp(snapshot.timestamp_ms / 1000, dt.UTC)
        summary = snapshot.summary.additional_properties if snapshot.summary else {}
        total = summary.get("total-records")
        rows = int(total) if total is not None and str(total).isdigit() else None
    return TableDoc(
        identifier=identifier,
        description=props.get(DESCRIPTION) or None,
        owner=props.get(OWNER) or None,
        tags=read_list(props.get(TAGS)),
        pii=pii,
        columns=columns,
        snapshot_id=None if snapshot is None else snapshot.snapshot_id,
        updated=updated,
        rows=rows,
    )
