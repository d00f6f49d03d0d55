"""The route table: OpenAPI path templates, turned into tornado patterns in one place.

``docs/rest-api.yaml`` documents exactly these paths and methods; ``tests/server/test_openapi.py`` fails
when they drift apart.
"""

from __future__ import annotations

import re

from .base import RatHandler
from .branch_handlers import BranchesHandler, BranchHandler, FastForwardHandler
from .maintenance_handlers import CompactHandler
from .meta_handlers import ChangesHandler, VersionHandler
from .pipelines_handlers import PipelineRunsHandler, PipelinesHandler
from .table_handlers import (
    NamespacesHandler,
    PreviewHandler,
    RefsHandler,
    SnapshotsHandler,
    TableHandler,
    TablesHandler,
)

_TABLE = "/ratatouille/tables/{namespace}/{table}"

#: ``(OpenAPI path template, handler)``, relative to the server's base URL.
ROUTES: list[tuple[str, type[RatHandler]]] = [
    ("/ratatouille/version", VersionHandler),
    ("/ratatouille/changes", ChangesHandler),
    ("/ratatouille/namespaces", NamespacesHandler),
    ("/ratatouille/tables", TablesHandler),
    (_TABLE, TableHandler),
    (f"{_TABLE}/snapshots", SnapshotsHandler),
    (f"{_TABLE}/refs", RefsHandler),
    (f"{_TABLE}/preview", PreviewHandler),
    (f"{_TABLE}/branches", BranchesHandler),
    (f"{_TABLE}/branches/{{branch}}", BranchHandler),
    (f"{_TABLE}/branches/{{branch}}/fast-forward", FastForwardHandler),
    (f"{_TABLE}/compact", CompactHandler),
    ("/ratatouille/pipelines", PipelinesHandler),
    ("/ratatouille/pipelines/{name}/runs", PipelineRunsHandler),
]

_HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def tornado_pattern(template: str) -> str:
    """``/a/{name}/b`` as the tornado pattern ``/a/(?P<name>[^/]+)/b`` (``%2F`` in a segment is allowed)."""
    return re.sub(r"\{([a-z_]+)\}", r"(?P<\1>[^/]+)", template) + "/?"


def methods_of(handler: type[RatHandler]) -> set[str]:
    """The HTTP methods a handler implements (lower case)."""
    return {m for m in _HTTP_METHODS if getattr(handler, m) is not getattr(RatHandler, m)}


def handlers() -> list[tuple[str, type[RatHandler]]]:
    """The ``(pattern, handler)`` pairs the extension registers."""
    return [(tornado_pattern(template), handler) for template, handler in ROUTES]
