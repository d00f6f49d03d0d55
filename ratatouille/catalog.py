"""The Iceberg catalog: opening it from settings, namespaces, and table lookup with clear errors.

The embedded default is a SQLite ``SqlCatalog`` (WAL journal and a busy timeout, since kernels, the server
extension and pipeline runs share it) over a local warehouse folder. A ``postgresql`` URL gives a Postgres
SQL catalog and an ``http(s)`` URL an Iceberg REST catalog; ``s3://`` warehouses take the S3 settings.
"""

from __future__ import annotations

import contextlib
import difflib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .errors import AlreadyExists, ConfigError, InvalidInput, NotFound, NotInstalled
from .sqltext import validate_identifier

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

    from .config import Settings

SQLITE_BUSY_TIMEOUT_S = 30


def file_io_properties(settings: Settings) -> dict[str, str]:
    """Pyiceberg FileIO properties for the object store (empty for local warehouses)."""
    props: dict[str, str] = {}
    if settings.s3_endpoint:
        props["s3.endpoint"] = settings.s3_endpoint
    if settings.s3_access_key_id:
        props["s3.access-key-id"] = settings.s3_access_key_id
    if settings.s3_secret_access_key:
        props["s3.secret-access-key"] = settings.s3_secret_access_key
    if settings.s3_region:
        props["s3.region"] = settings.s3_region
    return props


def open_catalog(settings: Settings) -> Catalog:
    """Open the catalog the settings describe, creating the embedded one on first use.

    Raises:
        ConfigError: The catalog URI is not a supported kind.
        NotInstalled: The driver for that kind is missing.
    """
    uri = settings.catalog_uri
    scheme = urlparse(uri).scheme.split("+")[0]
    props = {"warehouse": settings.warehouse, **file_io_properties(settings)}
    if scheme == "sqlite":
        return _open_sqlite(settings, props)
    if scheme in ("postgresql", "postgres", "mysql"):
        from pyiceberg.catalog.sql import SqlCatalog

        try:
            return SqlCatalog(settings.catalog_name, uri=uri, pool_pre_ping="true", **props)
        except ModuleNotFoundError as e:
            raise NotInstalled(
                f"the {scheme} catalog needs: pip install 'ratatouille[postgres]' ({e})"
            ) from e
    if scheme in ("http", "https"):
        from pyiceberg.catalog.rest import RestCatalog

        return RestCatalog(settings.catalog_name, uri=uri, **props)
    raise ConfigError(
        f"unsupported catalog URI {uri!r}: "
        "use sqlite:///..., postgresql+psycopg2://... or an http(s) REST URL"
    )


def _open_sqlite(settings: Settings, props: dict[str, str]) -> Catalog:
    from pyiceberg.catalog.sql import SqlCatalog

    path = Path(urlparse(settings.catalog_uri).path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if settings.warehouse.startswith("file://"):
        Path(urlparse(settings.warehouse).path).mkdir(parents=True, exist_ok=True)
    # WAL lets readers (the sidebar, other kernels) proceed while one process commits; the mode is
    # stored in the database file, so setting it once per open is cheap and idempotent.
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    uri = f"sqlite:///{path}?timeout={SQLITE_BUSY_TIMEOUT_S}"
    return SqlCatalog(settings.catalog_name, uri=uri, **props)


def split_identifier(identifier: str) -> tuple[str, str]:
    """Split and validate ``namespace.table``."""
    parts = identifier.split(".")
    if len(parts) != 2:
        from .errors import InvalidInput

        raise InvalidInput(
            f"invalid table name {identifier!r}: write 'namespace.table' (for example 'bronze.sales')"
        )
    return validate_identifier(parts[0], "namespace"), validate_identifier(parts[1], "table name")


def list_namespaces(catalog: Catalog, branch: str | None = None) -> list[str]:
    """Names of all namespaces, sorted; on a dev ``branch``, with those of the tables created on it.

    The namespace of tables created on a branch and not published yet is never listed.
    """
    from .branches.hidden import STAGING_NAMESPACE, staged_tables

    names = {".".join(ns) for ns in catalog.list_namespaces()} - {STAGING_NAMESPACE}
    if _on_dev(branch):
        assert branch is not None
        names |= {s.identifier.split(".")[0] for s in staged_tables(catalog, branch)}
    return sorted(names)


def list_tables(catalog: Catalog, namespace: str, branch: str | None = None) -> list[str]:
    """Names of the tables of one namespace, sorted; empty when the namespace does not exist.

    On a dev ``branch``, the tables created on it (not published yet) are listed too.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError

    from .branches.hidden import STAGING_NAMESPACE, staged_tables

    if namespace == STAGING_NAMESPACE:
        return []
    try:
        names = {ident[-1] for ident in catalog.list_tables(namespace)}
    except NoSuchNamespaceError:
        names = set()
    if _on_dev(branch):
        assert branch is not None
        for staged in staged_tables(catalog, branch):
            ns, name = staged.identifier.split(".")
            if ns == namespace:
                names.add(name)
    return sorted(names)


def _on_dev(branch: str | None) -> bool:
    return branch is not None and branch != "main"


def ensure_namespace(catalog: Catalog, namespace: str) -> None:
    """Create a namespace if it does not exist (concurrent creators are fine)."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    validate_identifier(namespace, "namespace")
    with contextlib.suppress(NamespaceAlreadyExistsError):  # a concurrent creator won: fine
        catalog.create_namespace_if_not_exists(namespace)


def load_table(catalog: Catalog, identifier: str, branch: str | None = None) -> Table:
    """Load a table as ``branch`` sees it, or raise :class:`NotFound` naming near matches.

    On a dev branch, a table created on that branch (and not published yet) is found under its real
    name; on main (``branch`` None or ``main``) only published tables are.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError, ValidationError

    namespace, name = split_identifier(identifier)
    if _on_dev(branch):
        from .branches.hidden import find_staged

        assert branch is not None
        staged = find_staged(catalog, f"{namespace}.{name}", branch)
        if staged is not None:
            return staged
    try:
        return catalog.load_table((namespace, name))
    except (NoSuchTableError, NoSuchNamespaceError) as e:
        raise NotFound(_not_found_message(catalog, namespace, name, branch)) from e
    except ValidationError as e:  # metadata pyiceberg cannot parse: a newer format version
        raise InvalidInput(_unsupported_metadata(f"{namespace}.{name}", e)) from e


def _unsupported_metadata(identifier: str, error: Exception) -> str:
    import re

    found = re.search(r"Input tag '(\w+)' found using 'format_version'", str(error))
    what = f"format version {found.group(1)}" if found else str(error).splitlines()[0]
    return f"table {identifier} has metadata this reader does not support: {what} (supported: 1, 2 and 3)"


def table_exists(catalog: Catalog, identifier: str, branch: str | None = None) -> bool:
    """True when the table exists (on a dev ``branch``: also when it was created on that branch)."""
    namespace, name = split_identifier(identifier)
    if _on_dev(branch):
        from .branches.hidden import find_staged

        assert branch is not None
        if find_staged(catalog, f"{namespace}.{name}", branch) is not None:
            return True
    return bool(catalog.table_exists((namespace, name)))


def drop_table(catalog: Catalog, identifier: str, purge: bool = True) -> None:
    """Drop a table (and, with ``purge``, its files)."""
    from pyiceberg.exceptions import NoSuchTableError

    namespace, name = split_identifier(identifier)
    try:
        if purge:
            table = catalog.load_table((namespace, name))
            catalog.drop_table((namespace, name))
            _purge_files(table)
        else:
            catalog.drop_table((namespace, name))
    except NoSuchTableError as e:
        raise NotFound(_not_found_message(catalog, namespace, name)) from e


def _purge_files(table: Table) -> None:
    # pyiceberg's purge_table is not implemented for SQL catalogs: delete the table's folder ourselves,
    # through the table's FileIO so that local and S3 warehouses behave alike.
    location = table.location()
    if location.startswith("file://") or location.startswith("/"):
        import shutil

        shutil.rmtree(urlparse(location).path, ignore_errors=True)
        return
    from pyarrow.fs import FileSelector, FileSystem

    parsed = urlparse(location)
    try:
        if hasattr(table.io, "fs_by_scheme"):  # configured like the table's reads (endpoint, keys, region)
            fs, root = table.io.fs_by_scheme(parsed.scheme, parsed.netloc), f"{parsed.netloc}{parsed.path}"
        else:
            fs, root = FileSystem.from_uri(location)
    except Exception:  # an exotic scheme: leave the files rather than fail the drop
        return
    for info in fs.get_file_info(FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type.name == "File":
            fs.delete_file(info.path)


def _not_found_message(catalog: Catalog, namespace: str, name: str, branch: str | None = None) -> str:
    from .branches.hidden import branches_having

    wanted = f"{namespace}.{name}"
    elsewhere = [b for b in branches_having(catalog, wanted) if b != branch]
    if elsewhere:
        where = f"branch {branch} or on main" if _on_dev(branch) else "main"
        return (
            f"table {wanted} does not exist on {where}; it exists on branch {', '.join(elsewhere)} "
            "(publish it with rat.dev_merge)"
        )
    candidates: list[str] = []
    for ns in list_namespaces(catalog):
        candidates.extend(f"{ns}.{t}" for t in list_tables(catalog, ns))
    near = difflib.get_close_matches(wanted, candidates, n=3, cutoff=0.6)
    if not near:
        near = [c for c in candidates if c.endswith(f".{name}")][:3]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    if not candidates:
        hint = "; the lakehouse has no tables yet"
    return f"table {wanted} does not exist{hint}"


def create_namespace(catalog: Catalog, namespace: str) -> None:
    """Create a namespace, refusing one that exists."""
    from pyiceberg.exceptions import NamespaceAlreadyExistsError

    validate_identifier(namespace, "namespace")
    try:
        catalog.create_namespace(namespace)
    except NamespaceAlreadyExistsError as e:
        raise AlreadyExists(f"namespace {namespace} already exists") from e
