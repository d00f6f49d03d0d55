"""Authentication on every route (403 without a token) and XSRF on writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from ratatouille_jupyter.server.routes import ROUTES, methods_of

pytestmark = pytest.mark.timeout(120)

_VALUES = {"namespace": "bronze", "table": "sales", "branch": "dev", "name": "p"}


def _concrete(template: str) -> str:
    path = template
    for key, value in _VALUES.items():
        path = path.replace("{" + key + "}", value)
    return path


CASES = [
    (method.upper(), _concrete(template))
    for template, handler in ROUTES
    for method in sorted(methods_of(handler))
]


@pytest.mark.parametrize(("method", "path"), CASES)
async def test_every_route_needs_authentication(jp_fetch: Any, method: str, path: str) -> None:
    body = "{}" if method == "POST" else None
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*path.strip("/").split("/"), method=method, body=body, headers={"Authorization": ""})
    assert info.value.code == 403


def _cookies(headers: Any) -> dict[str, str]:
    jar: dict[str, str] = {}
    for line in headers.get_list("Set-Cookie"):
        name, _, rest = line.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


async def test_cookie_sessions_need_xsrf_on_writes(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    base = jp_base_url
    client = http_server_client
    # A browser logs in with the token once, then holds a login cookie; pages give it an _xsrf cookie
    # (any value works: tornado compares the cookie with the header).
    login = await client.fetch(f"{base}ratatouille/version?token={jp_serverapp.identity_provider.token}")
    jar = _cookies(login.headers)
    assert any(name.startswith("username-") for name in jar)
    jar["_xsrf"] = "2|d7d3ad4c|0a5d6c6b4d2f3e1a9c8b7a6f5e4d3c2b|1795787960"

    read = await client.fetch(f"{base}ratatouille/namespaces", headers={"Cookie": _cookie_header(jar)})
    assert json.loads(read.body)["items"]

    url = f"{base}ratatouille/tables/bronze/sales/branches"
    body = json.dumps({"name": "dev"})
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url, method="POST", body=body, headers={"Cookie": _cookie_header(jar)})
    assert info.value.code == 403
    with pytest.raises(HTTPClientError) as info:  # the branch exists already: 409 proves XSRF passed
        await client.fetch(
            url,
            method="POST",
            body=body,
            headers={"Cookie": _cookie_header(jar), "X-XSRFToken": jar["_xsrf"]},
        )
    assert info.value.code == 409


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())
