"""Table functions that read exactly a list of Parquet data files: ``file()`` or ``s3()``/``s3Cluster()``.

S3 credentials live in a named collection of the engine; the SQL names the collection, never a secret.
"""

from __future__ import annotations

import hashlib
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
_GLOB_CHARS = re.compile(r"[{}*?,\[\]]")


def collection_name(settings: Settings, embedded: bool) -> str:
    """The named collection holding S3 credentials.

    A server has one, configured server-side (``rat_s3``). The embedded engine is shared by every session
    of the process, so each S3 configuration gets its own collection rather than overwriting another's.
    """
    if not embedded:
        return S3_COLLECTION
    digest = hashlib.sha256(
        f"{settings.s3_endpoint}\0{settings.s3_access_key_id}\0{settings.s3_secret_access_key}".encode()
    ).hexdigest()[:12]
    return f"{S3_COLLECTION}_{digest}"


def file_source(paths: list[str], structure: str, settings: Settings, collection: str, embedded: bool) -> str:
    """A table function reading exactly ``paths`` (Parquet) with the given ClickHouse structure.

    Local files use ``file()``; ``s3://`` files use ``s3()`` (``s3Cluster()`` on a server when a cluster
    is configured) through the named collection ``collection``.
    """
    if not paths:
        raise InvalidInput("file_source needs at least one file")
    schemes = {urlparse(p).scheme for p in paths}
    if schemes <= {"", "file"}:
        local = [urlparse(p).path if p.startswith("file:") else p for p in paths]
        return _glob_call(local, lambda url: f"file({quote_literal(url)}, 'Parquet', {structure})")
    if schemes <= {"s3", "s3a"}:
        urls = [s3_http_url(p, settings) for p in paths]
        cluster = settings.clickhouse_cluster

        def call(url: str) -> str:
            args = f"{collection}, url={quote_literal(url)}, format='Parquet', structure={structure}"
            if cluster and not embedded:
                return f"s3Cluster({quote_literal(cluster)}, {args})"
            return f"s3({args})"

        return _glob_call(urls, call)
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
