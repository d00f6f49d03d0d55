"""Pipeline notebooks written as plain JSON for the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def cell(source: str, *, tags: list[str] | None = None, kind: str = "code", index: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cell_type": kind,
        "id": f"c{index}",
        "metadata": {"tags": tags} if tags else {},
        "source": source,
    }
    if kind == "code":
        out.update(execution_count=None, outputs=[])
    return out


def write_notebook(
    path: Path,
    cells: list[str | tuple[str, list[str]]],
    pipeline: dict[str, Any] | bool | None = True,
    markdown_first: str | None = None,
) -> Path:
    """A notebook of code cells; ``("source", ["parameters"])`` tags a cell; ``pipeline`` is the metadata."""
    built = []
    if markdown_first is not None:
        built.append(cell(markdown_first, kind="markdown", index=0))
    for i, item in enumerate(cells, start=len(built)):
        source, tags = (item, None) if isinstance(item, str) else item
        built.append(cell(source, tags=tags, index=i))
    metadata: dict[str, Any] = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    if pipeline is not None and pipeline is not False:
        metadata["ratatouille"] = {"pipeline": {} if pipeline is True else pipeline}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": built, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}))
    return path
