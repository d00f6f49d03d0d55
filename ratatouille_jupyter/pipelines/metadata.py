"""The ``ratatouille.pipeline`` notebook metadata: what marks a notebook as a pipeline, and how it runs.

In the notebook's JSON (``metadata`` at the top level)::

    "ratatouille": {
      "pipeline": {
        "schedule": "0 6 * * *",      // cron (5 fields) or @hourly/@daily/@weekly/@monthly; null: manual
        "timezone": "Europe/Paris",   // IANA name of the schedule's time zone (default UTC)
        "parameters": {"day": "x"},   // values for scheduled runs (override the parameters cell)
        "retries": 2,                 // extra attempts after a failed one (default 0)
        "retry_delay": 60,            // seconds between attempts (default 0)
        "timeout": 3600,              // seconds one attempt may take (default: no limit)
        "keep_failed_days": 7         // days a failed run's branch is kept (default 7)
      }
    }

``"pipeline": {}`` (or ``true``) marks a notebook with every default. Unknown keys are refused, so a typo
does not silently change how a pipeline runs. Reading a notebook never imports nbformat.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ratatouille.errors import InvalidInput

#: Schedules spelled with a macro, as Dagster accepts them.
CRON_MACROS = ("@hourly", "@daily", "@weekly", "@monthly")
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
                ("day of week", 0, 7))  # fmt: skip
_NAMES = {
    3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
    4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
}
_ITEM = re.compile(r"^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(\d+))?$")


@dataclass(frozen=True)
class PipelineConfig:
    """How a pipeline is scheduled and run (see the module docstring for the JSON form).

    Attributes:
        schedule: Cron expression, or None for manual runs only.
        timezone: Time zone of the schedule.
        parameters: Parameter values of scheduled runs.
        retries: Extra attempts after a failed attempt.
        retry_delay: Seconds to wait between attempts.
        timeout: Seconds one attempt may take (None: no limit).
        keep_failed_days: Days a failed run's branch is kept for inspection before it is dropped.
    """

    schedule: str | None = None
    timezone: str = "UTC"
    parameters: dict[str, Any] = field(default_factory=dict)
    retries: int = 0
    retry_delay: float = 0
    timeout: float | None = None
    keep_failed_days: float = 7

    def to_json(self) -> dict[str, Any]:
        """The metadata object, defaults included."""
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> PipelineConfig:
        """Validate a ``ratatouille.pipeline`` value.

        Raises:
            InvalidInput: Unknown key, or a value of the wrong type or range (the message names it).
        """
        if value is True:
            return cls()
        if not isinstance(value, dict):
            raise InvalidInput("metadata ratatouille.pipeline must be an object (or true)")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(value) - known)
        if unknown:
            raise InvalidInput(
                f"unknown key(s) in ratatouille.pipeline: {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        schedule = value.get("schedule")
        if schedule is not None and schedule != "":
            if not isinstance(schedule, str):
                raise InvalidInput("schedule must be a cron string such as '0 6 * * *'")
            schedule = check_cron(schedule)
        timezone = value.get("timezone") or "UTC"
        params = value.get("parameters") or {}
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise InvalidInput("parameters must be an object of name: value")
        timeout = value.get("timeout")
        return cls(
            schedule=schedule or None,
            timezone=check_timezone(timezone),
            parameters=dict(params),
            retries=int(_number(value, "retries", 0, integer=True)),
            retry_delay=_number(value, "retry_delay", 0),
            timeout=None if timeout in (None, 0) else _number(value, "timeout", 0, positive=True),
            keep_failed_days=_number(value, "keep_failed_days", 7),
        )


def _number(value: dict[str, Any], key: str, default: float, integer: bool = False,
            positive: bool = False) -> float:  # fmt: skip
    raw = value.get(key, default)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or (integer and not isinstance(raw, int)):
        raise InvalidInput(f"{key} must be {'an integer' if integer else 'a number'}, got {raw!r}")
    if raw < 0 or (positive and raw == 0):
        raise InvalidInput(f"{key} must be {'positive' if positive else 'zero or more'}, got {raw!r}")
    return float(raw) if not integer else raw


def check_cron(expression: str) -> str:
    """Validate a cron expression (five fields, or a macro); return it normalised.

    Raises:
        InvalidInput: The expression is not a valid five-field cron (the message names the field).
    """
    text = " ".join(expression.split())
    if text in CRON_MACROS:
        return text
    parts = text.split(" ")
    if len(parts) != 5:
        raise InvalidInput(
            f"invalid schedule {expression!r}: a cron has 5 fields (minute hour day month weekday), "
            f"for example '0 6 * * *', or is one of {', '.join(CRON_MACROS)}"
        )
    for index, (part, (label, low, high)) in enumerate(zip(parts, _CRON_FIELDS, strict=True)):
        for item in part.split(","):
            match = _ITEM.match(item)
            if not match or (match.group(2) is not None and int(match.group(2)) == 0):
                raise InvalidInput(f"invalid schedule {expression!r}: bad {label} field {part!r}")
            if match.group(1) == "*":
                continue
            for bound in match.group(1).split("-"):
                number = _cron_value(bound, index)
                if number is None or not low <= number <= high:
                    raise InvalidInput(
                        f"invalid schedule {expression!r}: {label} {bound!r} is out of {low}-{high}"
                    )
    return text


def _cron_value(text: str, index: int) -> int | None:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(index, [])
    lowered = text.lower()
    return names.index(lowered) + (1 if index == 3 else 0) if lowered in names else None


def check_timezone(name: Any) -> str:
    """Validate an IANA time zone name."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name:
        raise InvalidInput("timezone must be an IANA name such as 'UTC' or 'Europe/Paris'")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise InvalidInput(f"unknown timezone {name!r}: use an IANA name such as 'Europe/Paris'") from e
    return name


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook's JSON, checked to be an nbformat 4 document.

    Raises:
        InvalidInput: The file cannot be read or is not a notebook.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InvalidInput(f"cannot read notebook {path.name}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidInput(f"{path.name} is not a Jupyter notebook (no cells)")
    if data.get("nbformat") != 4:
        raise InvalidInput(f"{path.name}: only nbformat 4 notebooks are supported")
    return data


def pipeline_metadata(notebook: dict[str, Any]) -> Any:
    """The raw ``ratatouille.pipeline`` value of a notebook's JSON (None when it is not a pipeline)."""
    meta = notebook.get("metadata")
    section = meta.get("ratatouille") if isinstance(meta, dict) else None
    value = section.get("pipeline") if isinstance(section, dict) else None
    return None if value is False else value


def write_pipeline_metadata(path: Path, config: PipelineConfig | None) -> None:
    """Set (or, with None, remove) a notebook file's ``ratatouille.pipeline`` metadata, in place.

    The rest of the file is kept as it was (one-space indented JSON, like Jupyter writes).
    """
    notebook = read_notebook(path)
    meta = notebook.setdefault("metadata", {})
    section = meta.setdefault("ratatouille", {})
    if config is None:
        section.pop("pipeline", None)
        if not section:
            meta.pop("ratatouille")
    else:
        section["pipeline"] = config.to_json()
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cell_tags(cell: dict[str, Any]) -> list[str]:
    """A cell's tags."""
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [str(t) for t in tags] if isinstance(tags, list) else []
