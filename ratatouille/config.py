"""Settings: one frozen dataclass, built explicitly from ``RAT_*`` variables and ``ratatouille.toml``.

Nothing here runs at import time. Every process (kernel, server extension, pipeline run, CLI) calls
:meth:`Settings.from_env` and, from the same working tree and environment, resolves the same lakehouse.

Precedence, highest first: ``RAT_*`` environment variables, the config file, built-in defaults.
The config file is ``RAT_CONFIG`` if set, else the nearest ``ratatouille.toml`` found upward from the
working directory, else ``<home>/ratatouille.toml`` if it exists.
The home is ``RAT_HOME``, else the file's ``home`` key (relative to the file), else the folder that holds a
project ``ratatouille.toml``, else a per-user data folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_FILE_NAME = "ratatouille.toml"
DEFAULT_CATALOG_NAME = "ratatouille"
DEFAULT_ENGINE = "chdb://memory"

# Keys a config file may hold, each matching the environment variable RAT_<KEY upper-cased>.
_KEYS = (
    "home",
    "catalog_uri",
    "catalog_name",
    "warehouse",
    "engine",
    "s3_endpoint",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_region",
    "landing",
    "clickhouse_cluster",
    "pipelines_dir",
    "record_parameters",
    "cache_mb",
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Where the lakehouse lives and how to reach its services.

    Attributes:
        home: Folder of the embedded lakehouse (catalog file, warehouse, landing zone).
        catalog_uri: SQLAlchemy URL of a SQL catalog (``sqlite:///...``, ``postgresql+psycopg2://...``)
            or an Iceberg REST catalog URL (``http(s)://...``).
        catalog_name: Name stored in the SQL catalog's rows; must stay the same for a catalog.
        warehouse: Root URI of new tables' data (``file:///...`` or ``s3://bucket/prefix``).
        engine: clickhouse-connect DSN: ``chdb://memory`` (embedded, default) or ``http(s)://host:8123``.
        s3_endpoint: S3 endpoint URL for an S3-compatible store (MinIO); empty for AWS.
        s3_access_key_id: S3 access key.
        s3_secret_access_key: S3 secret key (never shown in ``repr``).
        s3_region: S3 region.
        landing: The landing zone: a local folder or an ``s3://bucket/prefix`` URI.
        clickhouse_cluster: Cluster name for ``icebergS3Cluster`` on a ClickHouse server; empty for none.
        pipelines_dir: Folder of the pipeline notebooks (``<home>/pipelines`` by default; a relative path
            is relative to the home).
        record_parameters: Keep the values of a transform's query parameters in its snapshot summary
            (off by default: values may be personal data or secrets, and only their names and types are
            kept). ``dev_merge(rebase=True)`` needs them to replay a transform that has parameters.
        cache_mb: The bound of the snapshot cache in MiB (``RAT_CACHE_MB``): engine-native copies of
            the snapshots queries read. An eighth of the machine's memory by default; 0 turns it off.
        config_file: The config file that was read, if any.
        home_source: Why the home is this folder, in words (``RAT_HOME``, a ``ratatouille.toml`` and its
            path, or the default); empty when the settings were built in code (:meth:`for_home`).
            Shown by ``rat config`` and ``rat doctor``; not a setting (no variable, not in :meth:`describe`).
    """

    home: Path
    catalog_uri: str
    warehouse: str
    landing: str
    catalog_name: str = DEFAULT_CATALOG_NAME
    engine: str = DEFAULT_ENGINE
    s3_endpoint: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    s3_region: str = "us-east-1"
    clickhouse_cluster: str = ""
    pipelines_dir: str = ""
    record_parameters: bool = False
    cache_mb: int = -1
    config_file: Path | None = None
    home_source: str = field(default="", compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
        """Build settings from ``RAT_*`` variables and the config file.

        Args:
            environ: The environment to read; ``os.environ`` when omitted.
            cwd: Where to start looking for ``ratatouille.toml``; the working directory when omitted.

        Returns:
            The resolved settings.

        Raises:
            ConfigError: The config file cannot be read or holds unknown keys.
        """
        env = os.environ if environ is None else environ
        start = Path.cwd() if cwd is None else cwd
        config_path = _find_config_file(env, start)
        file_values = _read_config_file(config_path) if config_path else {}
        values: dict[str, str] = dict(file_values)
        values.update({k: env[f"RAT_{k.upper()}"] for k in _KEYS if env.get(f"RAT_{k.upper()}")})
        home, source = _resolve_home(env, config_path, file_values)
        if not config_path and (home / CONFIG_FILE_NAME).is_file():
            config_path = home / CONFIG_FILE_NAME
            values = {**_read_config_file(config_path), **values}
        others = {k: v for k, v in values.items() if k != "home"}
        return cls.for_home(home, config_file=config_path, home_source=source, **others)

    @classmethod
    def for_home(cls, home: Path | str, **overrides: Any) -> Settings:
        """Settings of an embedded lakehouse in ``home``, with optional overrides.

        Args:
            home: The lakehouse folder; created on first use, not here.
            **overrides: Any other field of :class:`Settings`.

        Returns:
            The settings.
        """
        home_path = Path(home).expanduser().resolve()
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        defaults: dict[str, Any] = {
            "catalog_uri": f"sqlite:///{home_path / 'catalog.db'}",
            "warehouse": (home_path / "warehouse").as_uri(),
            "landing": str(home_path / "landing"),
            "pipelines_dir": str(home_path / "pipelines"),
        }
        defaults.update({k: v for k, v in overrides.items() if v is not None})
        defaults["record_parameters"] = _flag(defaults.get("record_parameters", False), "record_parameters")
        defaults["cache_mb"] = _cache_mb(defaults.get("cache_mb"))
        return cls(home=home_path, **defaults)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def is_embedded_engine(self) -> bool:
        """True when the engine is chDB in this process."""
        return self.engine.startswith("chdb:")

    @property
    def uses_s3(self) -> bool:
        """True when the warehouse lives in S3."""
        return self.warehouse.startswith(("s3://", "s3a://"))

    def describe(self) -> dict[str, str]:
        """The settings as strings, secrets masked: what ``rat config``, ``rat doctor`` and ``repr`` show.

        The S3 secret, and the password of any URL (``RAT_CATALOG_URI``, ``RAT_ENGINE``), are masked.
        """
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name == "home_source":
                continue
            value = getattr(self, f.name)
            if f.name == "s3_secret_access_key" and value:
                value = "********"
            elif isinstance(value, str):
                value = masked_url(value)
            out[f.name] = "" if value is None else str(value)
        return out

    def explain_home(self) -> str:
        """One line: which lakehouse is in use and why (what ``rat config`` prints first)."""
        return f"lakehouse {self.home} ({self.home_source or 'given by the program'})"

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.describe().items() if k != "s3_secret_access_key"}
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


def masked_url(text: str) -> str:
    """``text`` with the password of a URL in it replaced by ``****`` (anything else unchanged)."""
    from urllib.parse import urlparse

    if "://" not in text:
        return text
    try:
        password = urlparse(text).password
    except ValueError:  # not a URL after all
        return text
    return text.replace(f":{password}@", ":****@") if password else text


def _find_config_file(env: Mapping[str, str], start: Path) -> Path | None:
    explicit = env.get("RAT_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"RAT_CONFIG points to {path}, which is not a file")
        return path.resolve()
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def _flag(value: Any, key: str) -> bool:
    """A yes/no setting given as a bool or as text (``1``, ``true``, ``yes``, ``on`` and their opposites)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(
        f"RAT_{key.upper()} ({key} in {CONFIG_FILE_NAME}) must be one of {', '.join(_TRUE)} "
        f"or {', '.join(f for f in _FALSE if f)}, got {value!r}"
    )


def machine_memory_bytes() -> int:
    """The machine's physical memory (0 when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def default_cache_mb() -> int:
    """An eighth of the machine's memory, in MiB: room for the tables a notebook works on.

    Every process (each notebook's kernel) has a cache of its own: a few kernels together stay well
    within the machine.
    """
    return machine_memory_bytes() // 8 // 2**20


def _cache_mb(value: Any) -> int:
    """``RAT_CACHE_MB`` as a number of MiB: the default when unset, else a whole number within memory."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == -1:
        return default_cache_mb()
    try:
        mb = int(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"RAT_CACHE_MB (cache_mb in {CONFIG_FILE_NAME}) must be a whole number of MiB, got {value!r}"
        ) from None
    if mb < 0:
        raise ConfigError(f"RAT_CACHE_MB must be 0 (no snapshot cache) or more, got {mb}")
    total = machine_memory_bytes() // 2**20
    if total and mb > total:
        raise ConfigError(f"RAT_CACHE_MB is {mb:,} MiB, more than this machine's memory ({total:,} MiB)")
    return mb


def _read_config_file(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    section = data.get("ratatouille", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [ratatouille] must be a table")
    unknown = set(section) - set(_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known keys: {', '.join(_KEYS)}"
        )
    return {k: str(v) for k, v in section.items()}


def _resolve_home(
    env: Mapping[str, str], config_path: Path | None, file_values: Mapping[str, str]
) -> tuple[Path, str]:
    """The home folder and why it is that one."""
    if env.get("RAT_HOME"):
        return Path(env["RAT_HOME"]).expanduser().resolve(), "from the RAT_HOME environment variable"
    if config_path is not None:
        via = " (RAT_CONFIG)" if env.get("RAT_CONFIG") else ""
        if file_values.get("home"):
            home = (config_path.parent / Path(file_values["home"]).expanduser()).resolve()
            return home, f"from {CONFIG_FILE_NAME} at {config_path}{via}"
        return config_path.parent.resolve(), f"the folder of {CONFIG_FILE_NAME} at {config_path}{via}"
    from platformdirs import user_data_dir  # deferred: only this fallback needs it

    return (
        Path(user_data_dir("ratatouille", appauthor=False)),
        f"the default: no RAT_HOME, no {CONFIG_FILE_NAME} in this folder or above",
    )
