"""Run parameters: checked against the ``parameters`` cell, typed like its defaults.

papermill silently ignores a parameter the notebook does not declare; a pipeline refuses it, so a typo
(``-p dya=...``) fails before anything runs instead of running with the default.
"""

from __future__ import annotations

import ast
import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ratatouille.errors import InvalidInput

from .spec import Parameter, PipelineSpec

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["key=value", ...]`` (the CLI's ``-p``) as a dict of strings.

    Raises:
        InvalidInput: An item has no ``=`` or an empty key.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"parameter {item!r} must be written key=value")
        out[key.strip()] = value
    return out


def resolve(spec: PipelineSpec, given: Mapping[str, Any] | None, *, text: bool = False) -> dict[str, Any]:
    """The parameters of a run: the metadata's values, then ``given``, every name checked.

    Args:
        spec: The pipeline.
        given: Values for this run.
        text: The values are strings from a command line: convert each to its default's type.

    Returns:
        Name -> value, for the names set by the metadata or by ``given`` (the others keep the cell's value).

    Raises:
        InvalidInput: A name is not in the parameters cell, or a value does not convert.
    """
    declared = {p.name: p for p in spec.parameters}
    given = dict(given or {})
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise InvalidInput(_unknown_message(spec, unknown))
    out: dict[str, Any] = dict(spec.config.parameters)
    for key, value in given.items():
        out[key] = convert(declared[key], value) if text and isinstance(value, str) else value
    return out


def _unknown_message(spec: PipelineSpec, unknown: list[str]) -> str:
    names = spec.parameter_names
    if not names:
        return (
            f"pipeline {spec.name!r} takes no parameter (it has no cell tagged 'parameters'); "
            f"got {', '.join(unknown)}"
        )
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, names, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"unknown parameter(s) of {spec.name!r}: {', '.join(hints)}; its parameters: {', '.join(names)}"


def convert(parameter: Parameter, text: str) -> Any:
    """Convert a command-line value to the type of the parameter's default.

    Raises:
        InvalidInput: The text is not a value of that type.
    """
    kind = parameter.type_name
    try:
        if kind == "str":
            return text
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
            raise ValueError(f"expected one of {', '.join(_TRUE + _FALSE)}")
        if kind in ("list", "dict"):
            value = _literal(text)
            if type(value).__name__ != kind:
                raise ValueError(f"expected a {kind}")
            return value
    except ValueError as e:
        raise InvalidInput(f"parameter {parameter.name}={text!r} is not a {kind}: {e}") from e
    try:  # no typed default: a literal if it reads as one, else the text
        return _literal(text)
    except ValueError:
        return text


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise ValueError(str(e)) from e
