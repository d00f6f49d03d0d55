"""Custom parsers: ``func(data: BytesIO, filename) -> DataFrame``, in the process or from entry points.

A package entry point (group ``ratatouille.parsers``) makes a team's parsers outlive the process::

    # pyproject.toml of the team's package
    [project.entry-points."ratatouille.parsers"]
    legacy_erp = "acme_parsers.erp:parse_export"
"""

from __future__ import annotations

import inspect
import threading
from importlib import metadata

from ..errors import InvalidInput, NotFound
from ..sqltext import validate_identifier
from .options import ParserFunc

ENTRY_POINT_GROUP = "ratatouille.parsers"
BUILTIN: dict[str, str] = {
    "csv": "CSV text (delimiter, quoting, header and encoding detected; gzip allowed)",
    "tsv": "Tab-separated text",
    "xlsx": "Excel workbook (.xlsx, .xlsm): a sheet by index or name, or several",
    "xls": "Old-style Excel workbook (.xls)",
    "json": "JSON: an array of objects (or an object holding one)",
    "ndjson": "Newline-delimited JSON: one object per line (.ndjson, .jsonl)",
    "parquet": "Parquet file (types kept)",
}

_lock = threading.Lock()
_registered: dict[str, tuple[ParserFunc, str]] = {}
_loaded_entry_points = False


def _describe(func: ParserFunc, description: str | None) -> str:
    if description:
        return description
    doc = inspect.getdoc(func)
    return doc.strip().splitlines()[0] if doc else f"custom parser {getattr(func, '__name__', func)!r}"


def register(name: str, func: ParserFunc, description: str | None = None) -> None:
    """Register (or replace) a parser for this process.

    Args:
        name: The parser's name: letters, digits and underscores; not a built-in format.
        func: ``func(data: BytesIO, filename: str) -> pandas.DataFrame``.
        description: Shown by ``rat.parsers()``; the first line of the function's docstring by default.

    Raises:
        InvalidInput: Bad name, a built-in format's name, or ``func`` is not callable.
    """
    validate_identifier(name, "parser name")
    if name in BUILTIN:
        raise InvalidInput(f"{name!r} is a built-in format; pick another parser name")
    if not callable(func):
        raise InvalidInput(
            f"a parser is a function func(data, filename) -> DataFrame, got {type(func).__name__}"
        )
    with _lock:
        _registered[name] = (func, _describe(func, description))


def _load_entry_points() -> None:
    global _loaded_entry_points
    with _lock:
        if _loaded_entry_points:
            return
        _loaded_entry_points = True
        found = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    for ep in found:
        if ep.name in _registered or ep.name in BUILTIN:
            continue  # a parser registered in the process wins over an installed one
        try:
            func = ep.load()
        except Exception as e:  # a broken plugin must not break ingestion of other formats
            func = _broken(ep.name, ep.value, e)
        with _lock:
            _registered.setdefault(ep.name, (func, _describe(func, None)))


def _broken(name: str, value: str, error: Exception) -> ParserFunc:
    def fail(data: object, filename: str) -> object:
        raise InvalidInput(f"parser {name!r} ({value}) could not be loaded: {error}")

    fail.__doc__ = f"BROKEN: cannot load {value}: {error}"
    return fail  # type: ignore[return-value]


def available() -> dict[str, str]:
    """``{name: description}`` of built-in formats and custom parsers."""
    _load_entry_points()
    with _lock:
        custom = {name: desc for name, (_, desc) in sorted(_registered.items())}
    return {**BUILTIN, **custom}


def get(name: str) -> ParserFunc:
    """A custom parser by name.

    Raises:
        NotFound: No such parser (the message lists the registered ones).
    """
    _load_entry_points()
    with _lock:
        found = _registered.get(name)
        names = sorted(_registered)
    if found is None:
        raise NotFound(
            f"no parser {name!r}; registered: {', '.join(names) or 'none'} "
            f"(register one with rat.register_parser(name, func) or the {ENTRY_POINT_GROUP!r} entry point)"
        )
    return found[0]


def unregister(name: str) -> None:
    """Forget a parser registered in this process."""
    with _lock:
        _registered.pop(name, None)
