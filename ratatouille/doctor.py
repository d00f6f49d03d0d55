"""``rat doctor``: check the configured services and say, for each, what works, what does not, and the fix.

Checks, in order: the settings; the catalog (SQLite file, Postgres or REST server); the object store
(endpoint reachable, buckets present, a probe file written); the engine (embedded chDB or a ClickHouse
server, and whether it reads the object store through its named collection, by reading the probe file
back); a ClickHouse cluster when one is configured; the Dagster webserver when ``RAT_DAGSTER_URL`` is set.
Network services are first probed with a plain TCP connection, so a stopped service fails in
``timeout`` seconds rather than after a driver's retries. The exit status is 1 when a check fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ._version import __version__
from .errors import ConfigError, NotInstalled, RatError

if TYPE_CHECKING:
    from pyarrow.fs import S3FileSystem

    from .config import Settings
    from .sdk import Rat

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"
STACK_HINT = "start the full stack with `make up` (docker compose -f docker/compose.yaml up -d)"
_DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306, "http": 80, "https": 443}
_AUTH_WORDS = ("authentication", "password", "AUTHENTICATION_FAILED", "REQUIRED_PASSWORD")
_S3_AUTH_WORDS = ("AccessDenied", "Access Denied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")


@dataclass
class Check:
    """The outcome of one check.

    Attributes:
        name: What was checked (``catalog``, ``object store``...).
        status: ``ok``, ``warn``, ``FAIL`` or ``skip``.
        detail: What was found.
        fix: What to do about a failure or warning.
    """

    name: str
    status: str
    detail: str
    fix: str = ""


def mask_url(url: str) -> str:
    """A URL with its password replaced by ``****``."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":****@", 1)
    return url


def tcp_probe(host: str, port: int, timeout: float) -> str | None:
    """None when ``host:port`` accepts a TCP connection, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as e:
        return e.strerror or str(e) or type(e).__name__


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


# -- the checks -------------------------------------------------------------------------------------------


def check_settings(settings: Settings) -> Check:
    """Where the settings come from and which kind of lakehouse they describe."""
    kind = "embedded lakehouse" if settings.is_embedded_engine else "shared stack"
    source = f"config file {settings.config_file}" if settings.config_file else "no config file"
    why = f" ({settings.home_source})" if settings.home_source else ""
    return Check("settings", OK, f"{kind}; home {settings.home}{why}; {source}")


def check_catalog(settings: Settings, timeout: float) -> Check:
    """Open the catalog and count its namespaces and tables."""
    uri = settings.catalog_uri
    parsed = urlparse(uri)
    scheme = parsed.scheme.split("+")[0]
    shown = mask_url(uri)
    if scheme == "sqlite":
        path = Path("/" + parsed.path.lstrip("/"))
        if not path.exists():
            folder = _nearest_existing(path.parent)
            if not os.access(folder, os.W_OK):
                fix = "set RAT_HOME (or RAT_CATALOG_URI) to a writable folder"
                return Check("catalog", FAIL, f"{path} cannot be created: {folder} is not writable", fix)
            return Check("catalog", OK, f"SQLite {path}: not created yet (made on first write)")
    elif parsed.hostname:
        port = parsed.port or _DEFAULT_PORTS.get(scheme, 0)
        reason = tcp_probe(parsed.hostname, port, timeout)
        if reason:
            fix = f"{STACK_HINT}, or correct the host and port in RAT_CATALOG_URI"
            return Check(
                "catalog", FAIL, f"cannot reach {parsed.hostname}:{port} ({reason}) for {shown}", fix
            )
    try:
        from .catalog import list_namespaces, list_tables, open_catalog

        catalog = open_catalog(settings)
        namespaces = list_namespaces(catalog)
        count = sum(len(list_tables(catalog, ns)) for ns in namespaces)
    except NotInstalled as e:
        return Check("catalog", FAIL, str(e), "install the extra named above")
    except ConfigError as e:
        return Check("catalog", FAIL, str(e), "correct RAT_CATALOG_URI")
    except Exception as e:  # drivers raise many kinds: report the first line and classify it
        message = _first_line(e)
        for secret in (parsed.password, settings.s3_secret_access_key):
            message = message.replace(secret, "****") if secret else message
        fix = "check RAT_CATALOG_URI (host, port, database name)"
        if any(w in message for w in _AUTH_WORDS):
            fix = "check the user and password in RAT_CATALOG_URI"
        elif "does not exist" in message:
            fix = "create that database, or correct its name in RAT_CATALOG_URI"
        return Check("catalog", FAIL, f"{shown}: {message}", fix)
    return Check("catalog", OK, f"{shown}: {len(namespaces)} namespace(s), {count} table(s)")


def check_object_store(settings: Settings, timeout: float) -> tuple[Check, str | None, S3FileSystem | None]:
    """Check the warehouse and landing zone; on S3, leave a probe file and return its URI."""
    places = {"warehouse": settings.warehouse, "landing": settings.landing}
    s3_places = {k: v for k, v in places.items() if v.startswith(("s3://", "s3a://"))}
    if not s3_places:
        for label, place in places.items():
            folder = Path(urlparse(place).path if place.startswith("file:") else place)
            if not os.access(_nearest_existing(folder), os.W_OK):
                fix = f"set RAT_HOME (or RAT_{label.upper()}) to a writable folder"
                return (
                    Check("object store", FAIL, f"the {label} folder {folder} is not writable", fix),
                    None,
                    None,
                )
        return (
            Check("object store", OK, f"local folders ({settings.warehouse}, {settings.landing})"),
            None,
            None,
        )
    endpoint = settings.s3_endpoint
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        reason = tcp_probe(parsed.hostname or "", port, timeout)
        if reason:
            fix = f"{STACK_HINT}, or correct RAT_S3_ENDPOINT"
            return Check("object store", FAIL, f"cannot reach {endpoint} ({reason})", fix), None, None
    where = endpoint or f"AWS S3 ({settings.s3_region})"
    try:
        fs = _s3_filesystem(settings, timeout)
        buckets = sorted({urlparse(v).netloc for v in s3_places.values()})
        from pyarrow.fs import FileType

        for bucket in buckets:
            if fs.get_file_info(bucket).type == FileType.NotFound:
                fix = (
                    "create it (in the stack the minio-init service creates the buckets: docker compose "
                    "-f docker/compose.yaml up minio-init), or correct RAT_WAREHOUSE / RAT_LANDING"
                )
                return (
                    Check("object store", FAIL, f"{where}: bucket {bucket!r} does not exist", fix),
                    None,
                    None,
                )
        warehouse = s3_places.get("warehouse") or next(iter(s3_places.values()))
        probe = f"{warehouse.rstrip('/')}/_rat_doctor_{uuid.uuid4().hex}/probe.txt"
        with fs.open_output_stream(probe.split("://", 1)[1]) as out:
            out.write(b"ratatouille doctor probe\n")
    except Exception as e:  # pyarrow raises OSError subclasses with the service's message
        message = _first_line(e)
        fix = f"check RAT_S3_ENDPOINT and the bucket names ({STACK_HINT})"
        if any(w in message for w in _S3_AUTH_WORDS):
            fix = "check RAT_S3_ACCESS_KEY_ID and RAT_S3_SECRET_ACCESS_KEY (and that the key may write)"
        return Check("object store", FAIL, f"{where}: {message}", fix), None, None
    detail = f"{where}: bucket(s) {', '.join(buckets)} readable and writable"
    return Check("object store", OK, detail), probe, fs


def check_engine(settings: Settings, timeout: float, probe: str | None) -> list[Check]:
    """Open the engine, report its version, read the probe file through its S3 named collection."""
    from .engine import engine_for

    embedded = settings.is_embedded_engine
    shown = mask_url(settings.engine)
    if not embedded:
        parsed = urlparse(settings.engine)
        port = parsed.port or (8443 if parsed.scheme == "https" else 8123)
        reason = tcp_probe(parsed.hostname or "", port, timeout) if parsed.hostname else "no host in the DSN"
        if reason:
            fix = f"{STACK_HINT}, or correct RAT_ENGINE (http://user:password@host:8123)"
            return [Check("engine", FAIL, f"cannot reach the ClickHouse server {shown} ({reason})", fix)]
    try:
        engine = engine_for(settings)
        version = str(engine.query_arrow("SELECT version() AS v").column("v")[0].as_py())
    except Exception as e:  # EngineError, or the driver's own
        message = _first_line(e)
        fix = "correct RAT_ENGINE: chdb://memory (embedded) or http://user:password@host:8123"
        if any(w in message for w in _AUTH_WORDS):
            fix = "check the user and password in RAT_ENGINE (CLICKHOUSE_PASSWORD in docker/.env)"
        return [Check("engine", FAIL, f"{shown}: {message}", fix)]
    if embedded:
        checks = [Check("engine", OK, f"chDB in this process (ClickHouse {version})")]
        detail = f"rat.publish needs a ClickHouse server, which BI tools can reach: {STACK_HINT}"
        checks.append(Check("serving", SKIP, detail))
    else:
        checks = [Check("engine", OK, f"ClickHouse {version} server at {shown}")]
        major_minor = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
        if major_minor < (24, 10):
            fix = "upgrade the server: rat.publish(mode='refresh') needs 24.10 or later"
            checks.append(Check("serving", WARN, f"ClickHouse {version} predates 24.10", fix))
    if probe:
        checks.append(check_engine_reads_s3(engine, settings, probe, timeout))
    if settings.clickhouse_cluster:
        checks.append(_check_cluster(engine, settings.clickhouse_cluster))
    return checks


def _check_cluster(engine: Any, cluster: str) -> Check:
    from .sqltext import quote_literal

    if engine.embedded:
        fix = "unset it, or point RAT_ENGINE at a server of that cluster"
        return Check("cluster", WARN, f"RAT_CLICKHOUSE_CLUSTER={cluster} is ignored by chDB", fix)
    sql = f"SELECT count() AS n FROM system.clusters WHERE cluster = {quote_literal(cluster)}"
    try:
        found = int(engine.query_arrow(sql).column("n")[0].as_py())
    except Exception as e:  # the engine's message says why (permissions...)
        return Check(
            "cluster", FAIL, f"cannot list the server's clusters: {_first_line(e)}", "see the message"
        )
    if not found:
        fix = "define it in the server's remote_servers, or correct RAT_CLICKHOUSE_CLUSTER"
        return Check("cluster", FAIL, f"the server defines no cluster {cluster!r}", fix)
    return Check("cluster", OK, f"cluster {cluster}: {found} replica(s)")


def check_engine_reads_s3(engine: Any, settings: Settings, probe: str, timeout: float) -> Check:
    """Read the probe file with the engine's S3 credentials, as every table read does."""
    from .engine.sources import s3_call, s3_http_url

    url = s3_http_url(probe, settings)
    ms = int(timeout * 1000)
    source = s3_call(url, "LineAsString", "", settings, engine.s3_collection)
    sql = (
        f"SELECT length(line) AS n FROM {source} "
        f"SETTINGS s3_retry_attempts = 0, s3_connect_timeout_ms = {ms}, s3_request_timeout_ms = {ms}"
    )
    # chDB has no collection: it is given the RAT_S3_* keys as query parameters.
    via = engine.s3_collection or "RAT_S3_*"
    try:
        engine.query_arrow(sql)
    except Exception as e:  # the engine's message says what failed
        message = _first_line(e)
        where = "this process" if engine.embedded else "the ClickHouse server"
        fix = f"RAT_S3_ENDPOINT ({settings.s3_endpoint or 'AWS'}) must be reachable from {where}"
        if "named collection" in message:
            fix = (
                f"the server has no `{engine.s3_collection}` named collection: mount "
                "docker/clickhouse/config.d/ratatouille.xml (see docs/operations.md)"
            )
        elif any(w in message for w in _S3_AUTH_WORDS):
            fix = f"the credentials of `{via}` on the engine differ from RAT_S3_*"
        return Check("engine → S3", FAIL, f"the engine cannot read {url}: {message}", fix)
    return Check("engine → S3", OK, f"the engine reads the object store through `{via}`")


def check_dagster(environ: Mapping[str, str], timeout: float) -> Check:
    """GET ``<RAT_DAGSTER_URL>/server_info``."""
    url = environ.get("RAT_DAGSTER_URL", "").strip()
    if not url:
        return Check("dagster", SKIP, "RAT_DAGSTER_URL is not set (set it to check the Dagster webserver)")
    target = url.rstrip("/") + "/server_info"
    parsed = urlparse(target)
    reason = tcp_probe(
        parsed.hostname or "", parsed.port or (443 if parsed.scheme == "https" else 80), timeout
    )
    if reason:
        fix = f"{STACK_HINT} (or `rat pipelines serve`), or correct RAT_DAGSTER_URL"
        return Check("dagster", FAIL, f"cannot reach {mask_url(url)} ({reason})", fix)
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            info = json.loads(response.read().decode() or "{}")
    except Exception as e:  # URLError, HTTPError, timeouts, bad JSON
        fix = f"{STACK_HINT} (or `rat pipelines serve`), or correct RAT_DAGSTER_URL"
        return Check("dagster", FAIL, f"{mask_url(url)}: {_first_line(e)}", fix)
    version = info.get("dagster_webserver_version") or info.get("dagster_version") or "?"
    return Check("dagster", OK, f"dagster-webserver {version} at {mask_url(url)}")


# -- running them ---------------------------------------------------------------------------------------


def run_checks(
    settings: Settings | None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    config_error: str | None = None,
) -> list[Check]:
    """Run every check; never raises for a broken service.

    Args:
        settings: The settings to check (None when they could not be loaded: see ``config_error``).
        environ: Where ``RAT_DAGSTER_URL`` is read; ``os.environ`` when omitted.
        timeout: Seconds allowed to each network probe.
        config_error: Why the settings could not be loaded.
    """
    env = os.environ if environ is None else environ
    if settings is None:
        fix = "correct ratatouille.toml or the RAT_* variables (see docs/configuration.md)"
        return [Check("settings", FAIL, config_error or "the settings could not be loaded", fix)]
    checks = [check_settings(settings), _guarded("catalog", lambda: [check_catalog(settings, timeout)])[0]]
    with _quiet_drivers():
        probe: str | None = None
        fs: S3FileSystem | None = None

        def store() -> list[Check]:
            nonlocal probe, fs
            check, probe, fs = check_object_store(settings, timeout)
            return [check]

        checks.extend(_guarded("object store", store))
        try:
            checks.extend(_guarded("engine", lambda: check_engine(settings, timeout, probe)))
        finally:
            if probe and fs is not None:
                with contextlib.suppress(Exception):  # the folder, so that no empty marker is left
                    fs.delete_dir(probe.split("://", 1)[1].rsplit("/", 1)[0])
    checks.extend(_guarded("dagster", lambda: [check_dagster(env, timeout)]))
    return checks


def _guarded(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """A check that raised unexpectedly is a failed check, not a crash of the others."""
    try:
        return run()
    except Exception as e:  # a bug or an unforeseen driver error: report it and go on
        return [Check(name, FAIL, f"{type(e).__name__}: {_first_line(e)}", "see the message")]


def render(checks: list[Check]) -> str:
    """The checks as aligned text, fixes under failures, a last line counting them."""
    width = max(len(c.name) for c in checks)
    lines = [f"ratatouille {__version__}: rat doctor"]
    for c in checks:
        lines.append(f"  {c.status:<5} {c.name:<{width}}  {c.detail}")
        if c.fix and c.status in (FAIL, WARN):
            lines.append(f"  {'':<5} {'':<{width}}  fix: {c.fix}")
    failed = sum(c.status == FAIL for c in checks)
    lines.append(f"{failed} of {len(checks)} checks failed." if failed else "Every check passed.")
    return "\n".join(lines)


def exit_status(checks: list[Check]) -> int:
    """1 when a check failed, else 0."""
    return 1 if any(c.status == FAIL for c in checks) else 0


def doctor_command(rat: Rat, as_json: bool = False, timeout: float = 5.0) -> int:
    """``rat doctor``: print the checks of ``rat``'s settings; return the exit status."""
    settings: Settings | None = None
    error: str | None = None
    try:
        settings = rat.settings
    except RatError as e:
        error = f"{type(e).__name__}: {e}"
    checks = run_checks(settings, timeout=timeout, config_error=error)
    print(json.dumps([asdict(c) for c in checks], indent=2) if as_json else render(checks))
    return exit_status(checks)


def _s3_filesystem(settings: Settings, timeout: float) -> S3FileSystem:
    from pyarrow.fs import AwsStandardS3RetryStrategy, S3FileSystem

    kwargs: dict[str, Any] = {
        "region": settings.s3_region or "us-east-1",
        "connect_timeout": timeout,
        "request_timeout": timeout,
        "retry_strategy": AwsStandardS3RetryStrategy(max_attempts=1),
    }
    if settings.s3_endpoint:
        kwargs["endpoint_override"] = settings.s3_endpoint
    if settings.s3_access_key_id:
        kwargs["access_key"] = settings.s3_access_key_id
        kwargs["secret_key"] = settings.s3_secret_access_key
    return S3FileSystem(**kwargs)


def _nearest_existing(path: Path) -> Path:
    for folder in (path, *path.parents):
        if folder.exists():
            return folder
    return Path("/")


@contextlib.contextmanager
def _quiet_drivers() -> Iterator[None]:
    # clickhouse-connect logs every refused connection before raising it: the check reports it once.
    logger = logging.getLogger("clickhouse_connect")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
