"""Tables created on a dev branch: kept under a hidden name until the branch is published.

A table that does not exist on main and is first written on branch ``B`` is created as
``rat_branches.<encoded name>`` (a namespace that listings hide), with its data on the ref ``B`` and the
table properties ``ratatouille.identifier`` (its real name) and ``ratatouille.created_on_branch`` (``B``).
Main's readers, the sidebar and other engines listing the catalog never see it under its real name;
on ``B`` it resolves like any table. Publishing renames it into place (one catalog update), dropping the
branch drops it with its files.

The hidden name encodes the real name and a digest of the branch, so a lookup is one catalog read:
``s<length of namespace>_<namespace>_<table>_<digest>``.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Conflict

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

#: The namespace of tables created on a branch and not published yet (hidden from listings).
STAGING_NAMESPACE = "rat_branches"
#: Table properties of a staged table: its real name and the branch it was created on.
IDENTIFIER_PROPERTY = "ratatouille.identifier"
BRANCH_PROPERTY = "ratatouille.created_on_branch"
#: Marks the temporary branch a rebase replays on (``<branch>.rebase-<random>``): it writes the
#: staged tables of ``<branch>``.
REBASE_SUFFIX = ".rebase-"
_DIGEST_CHARS = 12


@dataclass(frozen=True)
class Staged:
    """A table created on a branch, not published yet.

    Attributes:
        identifier: Its real name, ``namespace.table``.
        branch: The branch it was created on.
        staged: Its hidden name in the catalog.
    """

    identifier: str
    branch: str
    staged: str


def owner_branch(branch: str) -> str:
    """The branch whose staged tables ``branch`` writes (itself, or the branch a rebase replays)."""
    head, sep, tail = branch.rpartition(REBASE_SUFFIX)
    return head if sep and head and len(tail) == 8 else branch


def _digest(branch: str) -> str:
    return hashlib.sha256(owner_branch(branch).encode()).hexdigest()[:_DIGEST_CHARS]


def _prefix(identifier: str) -> str:
    namespace, name = identifier.split(".")
    return f"s{len(namespace)}_{namespace}_{name}_"


def staged_identifier(identifier: str, branch: str) -> str:
    """The hidden name of ``identifier`` created on ``branch``."""
    return f"{STAGING_NAMESPACE}.{_prefix(identifier)}{_digest(branch)}"


def staged_properties(identifier: str, branch: str) -> dict[str, str]:
    """The table properties recording a staged table's real name and branch."""
    return {IDENTIFIER_PROPERTY: identifier, BRANCH_PROPERTY: owner_branch(branch)}


def real_identifier(staged_name: str) -> str | None:
    """The real ``namespace.table`` encoded in a hidden table name (None when it is not one)."""
    if not staged_name.startswith("s") or "_" not in staged_name:
        return None
    length, _, rest = staged_name[1:].partition("_")
    if not length.isdigit() or len(rest) <= int(length) + 1 + _DIGEST_CHARS + 1:
        return None
    namespace, name = rest[: int(length)], rest[int(length) + 1 : -(_DIGEST_CHARS + 1)]
    return f"{namespace}.{name}"


def find_staged(catalog: Catalog, identifier: str, branch: str) -> Table | None:
    """The staged table of ``identifier`` on ``branch``, or None."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    try:
        return catalog.load_table(staged_identifier(identifier, branch))
    except (NoSuchTableError, NoSuchNamespaceError):
        return None


def _staged_names(catalog: Catalog) -> list[str]:
    from pyiceberg.exceptions import NoSuchNamespaceError

    try:
        return sorted(ident[-1] for ident in catalog.list_tables(STAGING_NAMESPACE))
    except NoSuchNamespaceError:
        return []


def staged_tables(catalog: Catalog, branch: str | None = None, identifier: str | None = None) -> list[Staged]:
    """The staged tables of one branch (or every branch), of one real name (or all), sorted."""
    from pyiceberg.exceptions import NoSuchTableError

    out = []
    for name in _staged_names(catalog):
        real = real_identifier(name)
        if real is None or (identifier is not None and real != identifier):
            continue
        if branch is not None:
            if name.endswith(_digest(branch)):
                out.append(Staged(real, owner_branch(branch), f"{STAGING_NAMESPACE}.{name}"))
            continue
        try:  # the branch is known from the table's properties only
            props = catalog.load_table((STAGING_NAMESPACE, name)).properties
        except NoSuchTableError:  # dropped meanwhile
            continue
        if BRANCH_PROPERTY in props:
            out.append(Staged(real, props[BRANCH_PROPERTY], f"{STAGING_NAMESPACE}.{name}"))
    return sorted(out, key=lambda s: (s.identifier, s.branch))


def branches_having(catalog: Catalog, identifier: str) -> list[str]:
    """The branches on which ``identifier`` was created and not published yet."""
    return sorted({s.branch for s in staged_tables(catalog, identifier=identifier)})


def make_room(catalog: Catalog, branch: str, identifiers: list[str]) -> list[str]:
    """Check that the real names of tables created on ``branch`` are free; create their namespaces.

    Returns:
        The namespaces created (to drop again if publishing fails).

    Raises:
        Conflict: A table of that name was created on main meanwhile (nothing was changed).
    """
    from ..catalog import ensure_namespace, list_namespaces

    taken = [i for i in identifiers if catalog.table_exists(i)]
    if taken:
        raise Conflict(
            f"cannot publish {branch!r}: {', '.join(taken)} was created on the branch and, meanwhile, "
            "on main. Nothing was changed: write the branch's table under another name, or drop main's first"
        )
    existing = set(list_namespaces(catalog))
    made = sorted({i.split(".")[0] for i in identifiers} - existing)
    for namespace in made:
        ensure_namespace(catalog, namespace)
    return made


def drop_empty_namespaces(catalog: Catalog, namespaces: list[str]) -> None:
    """Drop the namespaces a failed publish created, when they are still empty."""
    for namespace in namespaces:
        with contextlib.suppress(Exception):
            if not catalog.list_tables(namespace):
                catalog.drop_namespace(namespace)


def rename_back(catalog: Catalog, identifier: str, staged: str) -> None:
    """Give a table published from a branch its hidden name again (undoing a publish).

    Raises:
        Conflict: The table now at ``identifier`` is not the one published from the branch.
    """
    if catalog.table_exists(staged):
        return  # never renamed
    if not catalog.table_exists(identifier):
        raise Conflict(f"{identifier} vanished after it was published")
    props = catalog.load_table(identifier).properties
    if props.get(IDENTIFIER_PROPERTY) != identifier or staged != staged_identifier(
        identifier, props.get(BRANCH_PROPERTY, "")
    ):
        raise Conflict(f"{identifier} was replaced after it was published")
    catalog.rename_table(identifier, staged)
