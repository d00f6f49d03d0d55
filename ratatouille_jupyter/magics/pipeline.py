"""``%rat_pipeline``: mark the current notebook as a pipeline (its ``ratatouille.pipeline`` metadata).

The kernel cannot edit the notebook open in the browser, so the magic shows an output of the MIME type
:data:`MIME_TYPE` holding the settings it sets; the JupyterLab extension merges them into the open
notebook's metadata (save the notebook to keep them). ``--file`` writes the notebook file on disk
instead, for other front ends (close the notebook first: the editor would overwrite the file).

Usage::

    %rat_pipeline schedule="0 6 * * *" [timezone=Europe/Paris] [retries=2] [retry_delay=60]
                  [timeout=3600] [keep_failed_days=7] [parameters='{"day": "2024-06-01"}'] [--file]
    %rat_pipeline --off [--file]      # no longer a pipeline
    %rat_pipeline                     # what the saved notebook declares: schedule, tables, parameters

Only the settings named change (the others keep their values); ``schedule=`` (empty) makes the pipeline
manual. During a pipeline run the magic does nothing.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand

from .options import strip_comment

#: The MIME type the JupyterLab extension applies to the notebook's metadata.
MIME_TYPE = "application/vnd.ratatouille.pipeline+json"
_NUMBERS = ("retries", "retry_delay", "timeout", "keep_failed_days")
_KEYS = ("schedule", "timezone", "parameters", *_NUMBERS)


class PipelineUpdate:
    """What ``%rat_pipeline`` sets, shown as :data:`MIME_TYPE` (applied by JupyterLab) and as text.

    Args:
        values: The settings to merge into ``ratatouille.pipeline`` (None: remove the marking).
        note: A line about where the notebook is.
    """

    def __init__(self, values: dict[str, Any] | None, note: str = "") -> None:
        self.values = values
        self.note = note

    def text(self) -> str:
        """The plain-text form."""
        if self.values is None:
            head = "This notebook is no longer a pipeline"
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.values.items()) or "defaults"
            head = f"This notebook is a pipeline ({shown})"
        return f"{head}: save the notebook to keep it.{' ' + self.note if self.note else ''}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {MIME_TYPE: {"pipeline": self.values}, "text/plain": self.text()}


def parse_line(line: str) -> tuple[dict[str, Any], set[str]]:
    """The ``key=value`` settings and the ``--flags`` of a ``%rat_pipeline`` line.

    Raises:
        UsageError: An unknown option, or a value of the wrong type.
    """
    try:
        words = shlex.split(strip_comment(line))
    except ValueError as e:
        raise UsageError(f"%rat_pipeline: {e}") from None
    values: dict[str, Any] = {}
    flags: set[str] = set()
    for word in words:
        if word.startswith("--"):
            if word not in ("--off", "--file"):
                raise UsageError(f"%rat_pipeline: unknown flag {word} (use --off, --file)")
            flags.add(word)
            continue
        key, sep, value = word.partition("=")
        if not sep or key not in _KEYS:
            raise UsageError(f"%rat_pipeline: unknown option {word!r}; options: {', '.join(_KEYS)}")
        values[key] = _value(key, value)
    return values, flags


def _value(key: str, text: str) -> Any:
    if key == "schedule":
        return text or None
    if key == "parameters":
        try:
            parsed = json.loads(text or "{}")
        except ValueError as e:
            raise UsageError(f"%rat_pipeline: parameters must be a JSON object: {e}") from None
        if not isinstance(parsed, dict):
            raise UsageError("%rat_pipeline: parameters must be a JSON object")
        return parsed
    if key in _NUMBERS:
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"%rat_pipeline: {key} must be a number, got {text!r}") from None
        return int(number) if number.is_integer() else number
    return text


@magics_class
class PipelineMagics(Magics):
    """The ``%rat_pipeline`` magic."""

    @no_var_expand
    @line_magic
    def rat_pipeline(self, line: str) -> Any:
        """Mark this notebook as a pipeline (see the module docstring for the options)."""
        from ratatouille.errors import RatError
        from ratatouille_jupyter.pipelines.metadata import PipelineConfig

        if os.environ.get("RAT_BRANCH", "").startswith("pipelines/"):
            return None  # a pipeline run: the notebook is already a pipeline
        values, flags = parse_line(line)
        if not values and not flags:
            return self._show()
        try:
            if "--off" not in flags:
                PipelineConfig.from_json(values)  # validate what is set now (cron, time zone, numbers)
        except RatError as e:
            raise UsageError(f"%rat_pipeline: {e}") from None
        update = PipelineUpdate(None if "--off" in flags else values, self._where())
        if "--file" in flags:
            return self._write_file(update)
        return update

    def _notebook(self) -> Path | None:
        from ratatouille_jupyter.provenance import notebook_path

        text = notebook_path(self.shell)
        if not text:
            return None
        path = Path(text)
        if not path.is_absolute():
            path = Path.cwd() / path.name
        return path if path.suffix == ".ipynb" else None

    def _where(self) -> str:
        from ratatouille import rat
        from ratatouille_jupyter.pipelines.layout import pipelines_dir

        root = pipelines_dir(rat.settings)
        path = self._notebook()
        if path is None:
            return f"Pipelines are the notebooks under {root}."
        try:
            path.resolve().relative_to(root.resolve())
        except ValueError:
            return f"It runs as a pipeline once it is under {root} (it is in {path.parent})."
        return f"Pipeline name: {path.stem}."

    def _write_file(self, update: PipelineUpdate) -> str:
        from ratatouille.errors import RatError
        from ratatouille_jupyter.pipelines.metadata import (
            PipelineConfig,
            pipeline_metadata,
            read_notebook,
            write_pipeline_metadata,
        )

        path = self._notebook()
        if path is None or not path.is_file():
            raise UsageError("%rat_pipeline --file: this kernel does not know its notebook's file")
        try:
            if update.values is None:
                write_pipeline_metadata(path, None)
            else:
                current = pipeline_metadata(read_notebook(path))
                merged = {**(current if isinstance(current, dict) else {}), **update.values}
                write_pipeline_metadata(path, PipelineConfig.from_json(merged))
        except RatError as e:
            raise UsageError(f"%rat_pipeline: {e}") from None
        return f"{update.text().split(':')[0]}: written to {path}."

    def _show(self) -> Any:
        from ratatouille.errors import RatError
        from ratatouille_jupyter.pipelines.spec import load_spec

        path = self._notebook()
        if path is None or not path.is_file():
            raise UsageError("%rat_pipeline: this kernel does not know its notebook's file")
        try:
            spec = load_spec(path)
        except RatError as e:
            raise UsageError(f"%rat_pipeline: {e}") from None
        if spec is None:
            return f'{path.name} (as saved) is not a pipeline: %rat_pipeline schedule="0 6 * * *" marks it'
        return _SpecView(spec.as_dict(), self._where())


class _SpecView:
    """A pipeline's static description, as text."""

    def __init__(self, spec: dict[str, Any], note: str) -> None:
        self.spec = spec
        self.note = note

    def __repr__(self) -> str:
        s = self.spec
        lines = [
            f"pipeline {s['name']} (as saved): {s['schedule'] or 'manual'} ({s['timezone']}), "
            f"retries {s['retries']}, timeout {s['timeout'] or 'none'}",
            f"  writes: {', '.join(s['writes']) or '-'}",
            f"  reads:  {', '.join(s['reads']) or '-'}",
            f"  parameters: {json.dumps(s['parameter_defaults'], default=str)}",
            *[f"  warning: {w}" for w in s["warnings"]],
        ]
        if self.note:
            lines.append(f"  {self.note}")
        return "\n".join(lines)
