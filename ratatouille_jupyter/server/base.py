"""The one base handler: authentication, JSON in and out, worker threads, and the error map.

Every route subclasses :class:`RatHandler`. Its methods are wrapped with :func:`tornado.web.authenticated`
and Jupyter's :func:`~jupyter_server.auth.decorator.authorized` (resource ``ratatouille``), and Jupyter's
``APIHandler`` checks XSRF on every POST and DELETE of a cookie-authenticated browser. Errors are mapped
here and nowhere else: a :class:`~ratatouille.errors.RatError` becomes its ``http_status`` with its
message; the few pyiceberg errors a client can cause (missing table, concurrent commit) become 404 and
409; anything else is a bug, logged with its traceback, and answered 500.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado.web import HTTPError

from ratatouille.errors import Conflict, InvalidInput, NotFound, RatError

from .service import Explorer

#: Key of the :class:`Explorer` in the tornado application settings.
EXPLORER_SETTING = "ratatouille_explorer"
#: Largest JSON body a write accepts.
MAX_BODY_BYTES = 64 * 1024


class RatHTTPError(HTTPError):
    """An HTTP error that carries the name of the ratatouille error it came from."""

    def __init__(self, status_code: int, message: str, kind: str) -> None:
        super().__init__(status_code, "%s", message)
        self.message = message
        self.kind = kind


def client_error(exc: BaseException) -> RatHTTPError | None:
    """The HTTP error a client caused, or None when ``exc`` is a server bug."""
    if isinstance(exc, RatError):
        return RatHTTPError(exc.http_status, str(exc), type(exc).__name__)
    from pyiceberg.exceptions import CommitFailedException, NoSuchNamespaceError, NoSuchTableError

    if isinstance(exc, NoSuchTableError | NoSuchNamespaceError):
        return client_error(NotFound(str(exc)))
    if isinstance(exc, CommitFailedException):
        return client_error(Conflict(f"the table changed meanwhile, refresh and try again ({exc})"))
    return None


class RatHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every ``/ratatouille/`` handler."""

    auth_resource = "ratatouille"

    @property
    def explorer(self) -> Explorer:
        """The extension's :class:`Explorer`."""
        explorer: Explorer = self.settings[EXPLORER_SETTING]
        return explorer

    async def answer(
        self, fn: Callable[..., dict[str, Any]], *args: Any, status: int = 200, **kwargs: Any
    ) -> None:
        """Run ``fn(*args, **kwargs)`` in a worker thread and write its dict as JSON.

        Raises:
            RatHTTPError: ``fn`` raised an error the client caused.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        try:
            result = await loop.run_in_executor(self.explorer.executor, call)
        except Exception as e:
            mapped = client_error(e)
            if mapped is None:
                raise
            raise mapped from e
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(result, allow_nan=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors are ``{"error": kind, "message": text}``; a 500 says only that it is a server bug."""
        self.set_header("Content-Type", "application/json")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, RatHTTPError):
            reply = {"error": exc.kind, "message": exc.message}
        elif isinstance(exc, HTTPError) and status_code < 500:
            reply = {"error": "HTTPError", "message": exc.log_message or exc.reason or str(status_code)}
        else:
            reply = {"error": "ServerError", "message": "internal error: see the Jupyter server log"}
        self.finish(json.dumps(reply))

    # -- request parsing (every failure is a 400) ----------------------------------------------

    def str_arg(self, name: str, max_length: int = 200) -> str | None:
        """An optional query argument."""
        value = self.get_query_argument(name, None)
        if value is not None and len(value) > max_length:
            raise RatHTTPError(400, f"{name} is longer than {max_length} characters", "InvalidInput")
        return value

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        """An optional integer query argument."""
        value = self.get_query_argument(name, None)
        if value is None or value == "":
            return default
        return _to_int(name, value)

    def json_body(self) -> dict[str, Any]:
        """The request's JSON object (an empty body is ``{}``)."""
        raw = self.request.body or b"{}"
        if len(raw) > MAX_BODY_BYTES:
            raise RatHTTPError(400, "the request body is too large", "InvalidInput")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise RatHTTPError(400, "the request body is not JSON", "InvalidInput") from None
        if not isinstance(body, dict):
            raise RatHTTPError(400, "the request body must be a JSON object", "InvalidInput")
        return body

    def body_str(self, body: dict[str, Any], key: str, default: str | None = None) -> str | None:
        """A string member of a JSON body."""
        value = body.get(key, default)
        if value is not None and not isinstance(value, str):
            raise RatHTTPError(400, f"{key} must be a string", "InvalidInput")
        return value

    def body_int(self, body: dict[str, Any], key: str) -> int | None:
        """An integer member of a JSON body (a decimal string is accepted: snapshot ids exceed 2**53)."""
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise RatHTTPError(400, f"{key} must be an integer", "InvalidInput")
        return _to_int(key, str(value))


def _to_int(name: str, value: str) -> int:
    text = value.strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise RatHTTPError(400, f"{name} must be an integer, got {value[:40]!r}", InvalidInput.__name__)
    return int(text)
