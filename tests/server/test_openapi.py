"""docs/rest-api.yaml documents exactly the registered routes and methods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ratatouille_jupyter.server.routes import ROUTES, handlers, methods_of

SPEC = Path(__file__).resolve().parents[2] / "docs" / "rest-api.yaml"
_METHODS = {"get", "post", "put", "patch", "delete"}


def _spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return data


def test_spec_paths_and_methods_match_the_routes() -> None:
    documented = {
        (path, method) for path, item in _spec()["paths"].items() for method in item if method in _METHODS
    }
    registered = {(template, method) for template, handler in ROUTES for method in methods_of(handler)}
    assert documented == registered


def test_every_operation_documents_auth_and_errors() -> None:
    for path, item in _spec()["paths"].items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            assert op.get("operationId"), (path, method)
            assert "403" in op["responses"], (path, method)
            if "{table}" in path:
                assert {"400", "404"} <= set(op["responses"]), (path, method)


def test_spec_refs_resolve() -> None:
    spec = _spec()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target: Any = spec
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)


def test_patterns_capture_path_parameters() -> None:
    import re

    for pattern, _ in handlers():
        for name in re.findall(r"\(\?P<([a-z_]+)>", pattern):
            assert name in ("namespace", "table", "branch", "name")


def test_server_side_errors_are_documented() -> None:
    """What the error map can answer from 500 up: every route may hit a bug; every route that opens the
    lakehouse may meet unusable settings (503 ``ConfigError``) or a missing extra (501 ``NotInstalled``)."""
    from ratatouille.errors import ConfigError, NotInstalled

    spec = _spec()
    assert (ConfigError.http_status, NotInstalled.http_status) == (503, 501)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            wanted = {"500"} if path == "/ratatouille/version" else {"500", "501", "503"}
            assert wanted <= set(op["responses"]), (path, method)
    responses = spec["components"]["responses"]
    assert "ConfigError" in responses["Unavailable"]["description"]
    assert "NotInstalled" in responses["NotInstalled"]["description"]
