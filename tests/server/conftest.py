"""Fixtures for the server extension: a sample lakehouse and a Jupyter server with the extension on.

pytest-jupyter's fixtures are imported here (not declared as a plugin in the root conftest), so only these
tests start Jupyter servers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPClientError, HTTPResponse

from ratatouille.config import Settings
from ratatouille.session import Lakehouse
from tests.server.sample import SALES, build_sample

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample lakehouse, built once per session."""
    home = tmp_path_factory.mktemp("sample") / "home"
    build_sample(home)
    return home


@pytest.fixture
def rat_home(sample_template: Path) -> Path:
    """The lakehouse the server explores: the shared sample (read tests must not write to it)."""
    return sample_template


@pytest.fixture
def writable_home(tmp_path: Path) -> Path:
    """A fresh lakehouse with ``bronze.sales`` (two commits on main) for tests that write."""
    settings = Settings.for_home(tmp_path / "lakehouse")
    lh = Lakehouse(settings)
    lh.write(SALES, "bronze.sales")
    lh.write(SALES.slice(0, 1), "bronze.sales")
    lh.close()
    return settings.home


@pytest.fixture
def rat_read_only() -> bool:
    """Override to start the extension read-only."""
    return False


@pytest.fixture
def jp_server_config(rat_home: Path, rat_read_only: bool) -> dict[str, Any]:  # type: ignore[no-redef]
    """Jupyter server configuration: the extension enabled on the sample lakehouse."""
    return {
        "ServerApp": {"jpserver_extensions": {"ratatouille_jupyter.server": True}},
        "RatatouilleApp": {"home": str(rat_home), "read_only": rat_read_only},
    }


@pytest.fixture
def api(jp_fetch: Fetch) -> Callable[..., Awaitable[Any]]:
    """Call the API and decode the JSON answer: ``await api("tables", params={...})``."""

    async def call(*parts: str, method: str = "GET", body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT"):
            kwargs["body"] = "{}"
        response = await jp_fetch("ratatouille", *parts, method=method, **kwargs)
        return json.loads(response.body) if response.body else None

    return call


@pytest.fixture
def raw_api(
    http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str
) -> Callable[..., Awaitable[Any]]:
    """Call the API on an already URL-encoded path (``branches/feature%2Fx``), authenticated."""

    async def call(path: str, method: str = "GET", body: Any = None) -> Any:
        data = json.dumps(body) if body is not None else ("{}" if method == "POST" else None)
        response = await http_server_client.fetch(
            f"{jp_base_url}ratatouille/{path}", method=method, body=data, headers=dict(jp_auth_header)
        )
        return json.loads(response.body)

    return call


@pytest.fixture
def api_error(api: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[tuple[int, dict[str, Any]]]]:
    """Call the API expecting an error: ``status, body = await api_error("tables", ...)``."""

    async def call(*parts: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        with pytest.raises(HTTPClientError) as info:
            await api(*parts, **kwargs)
        response = info.value.response
        assert response is not None
        return info.value.code, json.loads(response.body)

    return call
