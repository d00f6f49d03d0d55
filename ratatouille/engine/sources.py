"""Table functions that read exactly a list of Parquet data files: ``file()`` or ``s3()``/``s3Cluster()``.

The SQL never holds an S3 secret. A server reads S3 through its ``rat_s3`` named collection, configured
server-side. The embedded engine names its keys as query parameters (:data:`S3_KEY_PARAMETERS`), which
the engine binds to each query that uses them: a named collection made by SQL would put the secret in
the statement's text, and chDB also writes it, in clear, to a file under its data folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ..errors import InvalidInput
from ..sqltext import quote_literal

if TYPE_CHECKING:
    from ..config import Settings

S3_COLLECTION = "rat_s3"
#: The query parameters holding the embedded engine's S3 keys: (access key id, secret access key).
S3_KEY_PARAMETERS = ("rat_s3_access_key_id", "rat_s3_secret_access_key")
S3_KEYS_SQL = ", ".join(f"{{{name}:String}}" for name in S3_KEY_PARAMETERS)
_GLOB_CHARS = re.compile(r"[{}*?,\[\]]")


def collection_name(embedded: bool) -> str:
    """The named collection holding S3 credentials: ``rat_s3`` on a server, none ("") in chDB."""
    return "" if embedded else S3_COLLECTION


def s3_key_parameters(settings: Settings) -> dict[str, str]:
    """The values of :data:`S3_KEY_PARAMETERS` (empty without keys: ClickHouse's default chain applies)."""
    if not (settings.s3_access_key_id and settings.s3_secret_access_key):
        return {}
    return dict(
        zip(S3_KEY_PARAMETERS, (settings.s3_access_key_id, settings.s3_secret_access_key), strict=True)
    )


def s3_call(
    url: str, fmt: str, structure: str, settings: Settings, collection: str, cluster: str = ""
) -> str:
    """``s3(...)`` (``s3Cluster(...)`` with a cluster) reading ``url`` in ``fmt``, with its credentials.

    ``collection`` is the server's named collection; "" (embedded engine) binds the keys as parameters.
    """
    if collection:
        args = f"{collection}, url={quote_literal(url)}, format={quote_literal(fmt)}"
        args += f", structure={structure}" if structure else ""
    else:
        keys = f", {S3_KEYS_SQL}" if s3_key_parameters(settings) else ""
        args = f"{quote_literal(url)}{keys}, {quote_literal(fmt)}" + (f", {structure}" if structure else "")
    return f"s3Cluster({quote_literal(cluster)}, {args})" if cluster else f"s3({args})"


def file_source(paths: list[str], structure: str, settings: Settings, collection: str, embedded: bool) -> str:
    """A table function reading exactly ``paths`` (Parquet) with the given ClickHouse structure.

    Local files use ``file()``; ``s3://`` files use ``s3()`` (``s3Cluster()`` on a server when a cluster
    is configured) through the named collection ``collection`` (see :func:`s3_call`).
    """
    if not paths:
        raise InvalidInput("file_source needs at least one file")
    schemes = {urlparse(p).scheme for p in paths}
    if schemes <= {"", "file"}:
        local = [urlparse(p).path if p.startswith("file:") else p for p in paths]
        return _glob_call(local, lambda url: f"file({quote_literal(url)}, 'Parquet', {structure})")
    if schemes <= {"s3", "s3a"}:
        urls = [s3_http_url(p, settings) for p in paths]
        cluster = "" if embedded else settings.clickhouse_cluster
        return _glob_call(urls, lambda url: s3_call(url, "Parquet", structure, settings, collection, cluster))
    raise InvalidInput(f"cannot read data files with scheme(s) {sorted(schemes)}")


def _glob_call(paths: list[str], call: Callable[[str], str]) -> str:
    # One call with a brace list reads all files in parallel; the brace list must follow a fixed
    # prefix (ClickHouse roots its glob at the first wildcard), hence the common folder first.
    if len(paths) == 1 and not _GLOB_CHARS.search(paths[0]):
        return call(paths[0])
    # Split off "scheme://host" so that the common folder is computed on paths alone.
    bases = {p[: p.index("/", p.index("://") + 3)] if "://" in p else "" for p in paths}
    if len(bases) == 1:
        base = bases.pop()
        rest = [p[len(base) :] for p in paths]
        folder = os.path.commonpath(rest) if len(rest) > 1 else os.path.dirname(rest[0])
        prefix = base + folder.rstrip("/") + "/"
        rels = [p[len(prefix) :] for p in paths]
        if not any(_GLOB_CHARS.search(r) for r in rels) and not _GLOB_CHARS.search(prefix):
            return call(prefix + "{" + ",".join(rels) + "}")
    selects = [f"SELECT * FROM {call(p)}" for p in paths]
    return "(" + " UNION ALL ".join(selects) + ")"


def s3_http_url(uri: str, settings: Settings) -> str:
    """The HTTP(S) URL of an ``s3://bucket/key`` URI (path style on a custom endpoint)."""
    parsed = urlparse(uri)
    endpoint = settings.s3_endpoint.rstrip("/")
    if endpoint:
        return f"{endpoint}/{parsed.netloc}{parsed.path}"
    region = settings.s3_region or "us-east-1"
    return f"https://{parsed.netloc}.s3.{region}.amazonaws.com{parsed.path}"
