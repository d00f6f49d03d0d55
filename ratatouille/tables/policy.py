"""A table's maintenance policy, stored in its Iceberg table properties.

The policy travels with the table (every engine and process sees the same one) and uses Iceberg's own
property names where they exist (``write.target-file-size-bytes``, ``history.expire.*``); the others are
under ``ratatouille.maintenance.``. A property that is absent means the default.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

PREFIX = "ratatouille.maintenance."
DEFAULT_TARGET_FILE_BYTES = 64 * 1024 * 1024
DEFAULT_RETAIN_LAST = 20
DEFAULT_MAX_SNAPSHOT_AGE = dt.timedelta(days=7)
DEFAULT_ORPHAN_MIN_AGE = dt.timedelta(days=3)
DEFAULT_MIN_COMPACT_FILES = 5
DEFAULT_MAX_MANIFESTS = 50
#: Main keeps at most this many snapshots: past it, writes expire the oldest (0 turns that off). Each
#: snapshot costs every later write a little metadata work, so the cap keeps writes as cheap as on a
#: young table.
DEFAULT_MAX_SNAPSHOTS = 100
#: No orphan sweep ever deletes a file younger than this: a writer's files exist before its commit.
ORPHAN_AGE_FLOOR = dt.timedelta(hours=1)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


@dataclass(frozen=True)
class Policy:
    """How a table is maintained.

    Attributes:
        target_file_bytes: Size compaction aims at (``write.target-file-size-bytes``, also used by writes).
        small_file_bytes: Files below this are "small" and compacted (default 3/4 of the target).
        min_compact_files: Automatic maintenance compacts when at least this many small files exist.
        retain_last: Snapshots of main always kept by expiry (``history.expire.min-snapshots-to-keep``).
        max_snapshot_age: Expiry removes snapshots older than this (``history.expire.max-snapshot-age-ms``).
        orphan_min_age: Unreferenced files younger than this are never deleted (at least one hour).
        max_manifests: Automatic maintenance rewrites the manifests when the head has more than this.
        max_snapshots: Writes expire main's oldest snapshots past this many (0: never); branch and tag
            heads are always kept.
        enabled: False keeps automatic maintenance (``maintain``) off this table.
    """

    target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES
    small_file_bytes: int = DEFAULT_TARGET_FILE_BYTES * 3 // 4
    min_compact_files: int = DEFAULT_MIN_COMPACT_FILES
    retain_last: int = DEFAULT_RETAIN_LAST
    max_snapshot_age: dt.timedelta = DEFAULT_MAX_SNAPSHOT_AGE
    orphan_min_age: dt.timedelta = DEFAULT_ORPHAN_MIN_AGE
    max_manifests: int = DEFAULT_MAX_MANIFESTS
    max_snapshots: int = DEFAULT_MAX_SNAPSHOTS
    enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The policy as plain values (durations as ``"<n>s"`` strings, as :func:`parse_duration` reads)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, dt.timedelta):
                out[key] = f"{int(value.total_seconds())}s"
        return out


#: Policy field -> table property.
PROPERTIES = {
    "target_file_bytes": "write.target-file-size-bytes",
    "small_file_bytes": f"{PREFIX}small-file-bytes",
    "min_compact_files": f"{PREFIX}min-compact-files",
    "retain_last": "history.expire.min-snapshots-to-keep",
    "max_snapshot_age": "history.expire.max-snapshot-age-ms",
    "orphan_min_age": f"{PREFIX}orphan-min-age-ms",
    "max_manifests": f"{PREFIX}max-manifests",
    "max_snapshots": f"{PREFIX}max-snapshots",
    "enabled": f"{PREFIX}enabled",
}
_MINIMUM = {
    "target_file_bytes": 1,
    "small_file_bytes": 0,
    "min_compact_files": 2,
    "retain_last": 1,
    "max_manifests": 1,
    "max_snapshots": 0,
}


def parse_duration(value: Any, what: str = "duration") -> dt.timedelta:
    """A duration from a ``timedelta`` or a string such as ``"0s"``, ``"90m"``, ``"36h"``, ``"7d"``, ``"2w"``.

    Raises:
        InvalidInput: Anything else, or a negative duration.
    """
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta(0):
            raise InvalidInput(f"{what} must not be negative, got {value}")
        return value
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return dt.timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    raise InvalidInput(
        f"{what} must be a timedelta or a string like '90m', '36h' or '7d' "
        f"(units s, m, h, d, w), got {value!r}"
    )


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if value < _MINIMUM[name]:
        raise InvalidInput(f"{name} must be at least {_MINIMUM[name]}, got {value}")
    return value


def check_setting(name: str, value: Any) -> Any:
    """Validate one policy setting; return it normalized (durations as ``timedelta``).

    Raises:
        InvalidInput: An unknown name or a bad value.
    """
    if name not in PROPERTIES:
        raise InvalidInput(f"unknown maintenance setting {name!r}: use one of {', '.join(PROPERTIES)}")
    if name in ("max_snapshot_age", "orphan_min_age"):
        duration = parse_duration(value, name)
        if name == "orphan_min_age" and duration < ORPHAN_AGE_FLOOR:
            raise InvalidInput(
                f"orphan_min_age must be at least {ORPHAN_AGE_FLOOR} so that files a writer has not "
                f"committed yet are never deleted, got {duration}"
            )
        return duration
    if name == "enabled":
        if not isinstance(value, bool):
            raise InvalidInput(f"enabled must be True or False, got {value!r}")
        return value
    return _check_int(name, value)


def _from_property(name: str, text: str) -> Any:
    """A policy value from its stored text (an unreadable one is a clear error naming the property)."""
    prop = PROPERTIES[name]
    try:
        if name == "enabled":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        number = int(text)
    except ValueError as e:
        raise InvalidInput(
            f"table property {prop}={text!r} is not valid: set it again with set_policy"
        ) from e
    if name in ("max_snapshot_age", "orphan_min_age"):
        return check_setting(name, dt.timedelta(milliseconds=number))
    return check_setting(name, number)


def _to_property(name: str, value: Any) -> str:
    if isinstance(value, dt.timedelta):
        return str(int(value.total_seconds() * 1000))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def policy_of(table: Table) -> Policy:
    """The maintenance policy of a loaded table (defaults for every property it does not set).

    Raises:
        InvalidInput: A stored property cannot be read.
    """
    props = table.metadata.properties
    values = {name: _from_property(name, props[prop]) for name, prop in PROPERTIES.items() if prop in props}
    if "small_file_bytes" not in values:
        target = values.get("target_file_bytes", DEFAULT_TARGET_FILE_BYTES)
        values["small_file_bytes"] = target * 3 // 4
    return Policy(**values)


def set_policy(catalog: Catalog, identifier: str, **settings: Any) -> Policy:
    """Validate and store policy settings of a table (one commit); return the new policy.

    Args:
        catalog: The catalog.
        identifier: ``namespace.table``.
        **settings: Fields of :class:`Policy`; durations as ``timedelta`` or ``"7d"``-style strings.

    Raises:
        InvalidInput: An unknown setting or a bad value (nothing is stored).
        NotFound: No such table.
        Conflict: Other commits kept winning.
    """
    from pyiceberg.exceptions import CommitFailedException

    from ..catalog import load_table

    checked = {name: check_setting(name, value) for name, value in settings.items()}
    table = load_table(catalog, identifier)
    derived: dict[str, Any] = {}
    if PROPERTIES["small_file_bytes"] not in table.metadata.properties and "small_file_bytes" not in checked:
        # Not set: it follows the target (3/4 of it), so a new target moves it too.
        derived["small_file_bytes"] = (
            checked.get("target_file_bytes", policy_of(table).target_file_bytes) * 3 // 4
        )
    merged = replace(policy_of(table), **{**checked, **derived})
    if merged.small_file_bytes > merged.target_file_bytes:
        raise InvalidInput(
            f"small_file_bytes ({merged.small_file_bytes}) must not exceed target_file_bytes "
            f"({merged.target_file_bytes})"
        )
    if not checked:
        return merged
    from .commit import transaction

    updates = {PROPERTIES[name]: _to_property(name, value) for name, value in checked.items()}
    for attempt in range(5):
        try:
            transaction(table).set_properties(updates).commit_transaction()
            return policy_of(load_table(catalog, identifier))
        except CommitFailedException:
            time.sleep(0.05 * 2**attempt)
            table = load_table(catalog, identifier)
    raise Conflict(f"could not store the policy of {identifier}: other commits kept winning, try again")


def policy_fields() -> list[str]:
    """Names of the policy settings."""
    return [f.name for f in fields(Policy)]
