"""A pipeline notebook as data: its name, configuration, parameters and lineage, and their discovery.

A pipeline is a notebook under the pipelines folder (:func:`~.layout.pipelines_dir`, searched
recursively, hidden folders and ``.ipynb_checkpoints`` skipped) whose metadata holds
``ratatouille.pipeline``. Its name is the file name without ``.ipynb``. A notebook that cannot be read, or
whose metadata is invalid, is reported by name in :attr:`Discovery.errors` and the others still load.
Nothing here runs a notebook or imports nbformat, papermill or Dagster.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ratatouille.config import Settings
from ratatouille.errors import InvalidInput, NotFound, RatError

from .layout import pipeline_key, pipelines_dir
from .lineage import analyse, top_level_assignments
from .metadata import PipelineConfig, cell_source, cell_tags, pipeline_metadata, read_notebook

#: The tag of the cell holding the parameters (papermill's convention).
PARAMETERS_TAG = "parameters"


@dataclass(frozen=True)
class Parameter:
    """One name assigned in the ``parameters`` cell.

    Attributes:
        name: The variable name.
        default: Its value in the cell, when it is a literal (else None).
        type_name: ``int``, ``float``, ``bool``, ``str``, ``list``, ``dict``, ``None`` or ``unknown``.
        source: The value's expression as written (``datetime.date(2024, 1, 1)``).
    """

    name: str
    default: Any = None
    type_name: str = "unknown"
    source: str = ""

    @property
    def shown_type(self) -> str:
        """The default's Python type name, or ``expression`` when it is not a literal."""
        if self.default is None:
            return "expression" if self.type_name == "unknown" else "None"
        return type(self.default).__name__

    @property
    def shown_default(self) -> Any:
        """The default as JSON: the value, or its text when JSON cannot hold it (a set, a date...)."""
        if self.shown_type == "expression":
            return self.source or None
        return json_ready(self.default)


def json_ready(value: Any) -> Any:
    """``value`` as JSON can hold it: containers recursively, anything else JSON lacks as its ``repr``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: json_ready(v) for k, v in value.items()}
    return repr(value)


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline notebook, read statically.

    Attributes:
        name: The notebook's file name without ``.ipynb``.
        key: Its Dagster-safe name (job, op and branch names).
        path: The notebook file.
        config: Its ``ratatouille.pipeline`` metadata.
        parameters: The names of its ``parameters`` cell, in order.
        writes: Tables it writes (its Dagster assets) -> the first cell writing each (1-based).
        reads: Tables it reads and does not write (its dependencies), sorted.
        warnings: What could not be found statically, each naming its cell.
        kernel: The kernel the notebook names (``python3`` if none).
        cell_ids: The id of each cell, in order (``""`` for a cell without one).
        checks: ``(ns.t, check name, severity)`` of each data-quality check found statically.
        description: The text of the notebook's first Markdown cell (``""`` when it has none).
    """

    name: str
    key: str
    path: Path
    config: PipelineConfig
    parameters: tuple[Parameter, ...] = ()
    writes: dict[str, int] = field(default_factory=dict)
    reads: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    kernel: str = "python3"
    cell_ids: tuple[str, ...] = ()
    checks: tuple[tuple[str, str, str], ...] = ()
    description: str = ""

    @property
    def parameter_names(self) -> list[str]:
        """The names of the parameters cell."""
        return [p.name for p in self.parameters]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for the CLI, the REST API and Dagster metadata)."""
        return {
            "name": self.name,
            "key": self.key,
            "path": str(self.path),
            **self.config.to_json(),
            "parameters": json_ready(self.config.parameters),
            "parameter_defaults": {p.name: p.shown_default for p in self.parameters},
            "parameter_types": {p.name: p.shown_type for p in self.parameters},
            "writes": sorted(self.writes),
            "reads": list(self.reads),
            "warnings": list(self.warnings),
            "checks": [{"table": t, "name": n, "severity": sev} for t, n, sev in self.checks],
            "description": self.description,
        }


@dataclass
class Discovery:
    """What a search of the pipelines folder found.

    Attributes:
        root: The folder searched.
        pipelines: The pipelines, by name.
        errors: Notebooks that could not be loaded: name -> reason.
        unmarked: Notebooks without ``ratatouille.pipeline`` metadata (not pipelines), by name.
    """

    root: Path
    pipelines: dict[str, PipelineSpec] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    unmarked: list[str] = field(default_factory=list)

    def get(self, name: str) -> PipelineSpec:
        """The pipeline ``name``.

        Raises:
            InvalidInput: The notebook exists but cannot be loaded (the reason is given).
            NotFound: There is no such pipeline (the known ones are listed).
        """
        if name in self.pipelines:
            return self.pipelines[name]
        if name in self.errors:
            raise InvalidInput(f"pipeline {name!r} cannot be loaded: {self.errors[name]}")
        if name in self.unmarked:
            raise NotFound(
                f"{name!r} is not a pipeline: mark it (%rat_pipeline, or the metadata ratatouille.pipeline)"
            )
        known = ", ".join(sorted(self.pipelines)) or "none"
        raise NotFound(f"no pipeline {name!r} in {self.root} (pipelines: {known})")


def load_spec(path: Path, config: PipelineConfig | None = None) -> PipelineSpec | None:
    """Read one notebook; None when it is not marked as a pipeline (and no ``config`` is given).

    Raises:
        InvalidInput: The notebook cannot be read or its metadata is invalid.
    """
    notebook = read_notebook(path)
    raw = pipeline_metadata(notebook)
    if raw is None and config is None:
        return None
    if config is None:
        try:
            config = PipelineConfig.from_json(raw)
        except InvalidInput as e:
            raise InvalidInput(f"{path.name}: {e}") from e
    cells = [c for c in notebook["cells"] if isinstance(c, dict)]
    code = [(i, cell_source(c)) for i, c in enumerate(cells, start=1) if c.get("cell_type") == "code"]
    lineage = analyse(code)
    params_cell = next(
        (cell_source(c) for c in cells if c.get("cell_type") == "code" and PARAMETERS_TAG in cell_tags(c)),
        None,
    )
    parameters = parse_parameters(params_cell) if params_cell is not None else ()
    unknown = sorted(set(config.parameters) - {p.name for p in parameters})
    if unknown:
        raise InvalidInput(
            f"{path.name}: metadata parameters {', '.join(unknown)} are not in the notebook's parameters cell"
        )
    kernelspec = notebook.get("metadata", {}).get("kernelspec") or {}
    return PipelineSpec(
        name=path.stem,
        key=pipeline_key(path.stem),
        path=path.resolve(),
        config=config,
        parameters=parameters,
        writes=dict(sorted(lineage.writes.items())),
        reads=tuple(lineage.upstream),
        warnings=tuple(lineage.warnings),
        kernel=str(kernelspec.get("name") or "python3"),
        cell_ids=tuple(str(c.get("id", "")) for c in cells),
        checks=tuple((table, name, severity) for (table, name), severity in lineage.checks.items()),
        description=next(
            (text for c in cells if c.get("cell_type") == "markdown" and (text := cell_source(c).strip())), ""
        ),
    )


def parse_parameters(source: str) -> tuple[Parameter, ...]:
    """The variables assigned at the top level of a ``parameters`` cell, with their literal defaults.

    Raises:
        InvalidInput: The cell is not valid Python.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise InvalidInput(f"the parameters cell is not valid Python: {e}") from e
    found: dict[str, Parameter] = {}
    for name, value in top_level_assignments(tree):
        if name not in found:
            found[name] = _parameter(name, value)
    return tuple(found.values())


def _parameter(name: str, value: ast.expr) -> Parameter:
    source = ast.unparse(value)
    try:
        default = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Parameter(name, source=source)
    type_name = "None" if default is None else type(default).__name__
    return Parameter(name, default, type_name if type_name in _KNOWN_TYPES else "unknown", source)


_KNOWN_TYPES = ("int", "float", "bool", "str", "list", "dict", "None")


def discover(settings: Settings, root: Path | None = None) -> Discovery:
    """Every pipeline under ``root`` (the pipelines folder by default)."""
    folder = root if root is not None else pipelines_dir(settings)
    found = Discovery(folder)
    keys: dict[str, str] = {}
    for path in _notebooks(folder):
        name = path.stem
        if name in found.pipelines or name in found.errors or name in found.unmarked:
            found.errors[f"{name} ({path.relative_to(folder)})"] = f"another notebook is named {name}.ipynb"
            continue
        try:
            spec = load_spec(path)
        except RatError as e:
            found.errors[name] = str(e)
            continue
        if spec is None:
            found.unmarked.append(name)
            continue
        if spec.key in keys:
            found.errors[name] = (
                f"its Dagster name {spec.key!r} is also the name of pipeline {keys[spec.key]!r}"
            )
            continue
        keys[spec.key] = name
        found.pipelines[name] = spec
    _check_writers(found)
    return found


def _check_writers(found: Discovery) -> None:
    """A table is the asset of one pipeline: a later pipeline writing it too is reported, not loaded."""
    owner: dict[str, str] = {}
    for name in sorted(found.pipelines):
        spec = found.pipelines[name]
        clash = sorted(t for t in spec.writes if t in owner)
        if clash:
            found.errors[name] = (
                f"writes {', '.join(clash)}, already written by pipeline {owner[clash[0]]!r} "
                "(a table is the asset of one pipeline)"
            )
            del found.pipelines[name]
            continue
        owner.update(dict.fromkeys(spec.writes, name))


def _notebooks(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
