"""Throwaway PostgreSQL and S3 servers for tests and benchmarks.

This module deliberately does not import pytest, so benchmark scripts can use it too::

    from tests.services import PostgresServer, S3Server

    with PostgresServer() as pg, S3Server() as s3:
        uri = pg.create_database("bench")
        s3.create_bucket("warehouse")
        ...

Nothing here modifies ``os.environ``. Code that cannot be handed credentials and an endpoint
explicitly (for example a child process) can be given :meth:`S3Server.env`.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = [
    "PostgresNotFoundError",
    "PostgresServer",
    "S3Server",
    "ServiceError",
    "find_postgres_bindir",
    "free_port",
]

LOCALHOST = "127.0.0.1"

# Server binaries a cluster needs; client tools are optional.
_PG_SERVER_BINARIES = ("initdb", "postgres")
_MIN_SHM_BYTES = 1 << 30
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ServiceError(RuntimeError):
    """A test service could not be started or used."""


class PostgresNotFoundError(ServiceError):
    """The PostgreSQL server binaries (``initdb``, ``postgres``) could not be found."""


def free_port(host: str = LOCALHOST) -> int:
    """Return a TCP port that is currently free on ``host``.

    The port is only guaranteed to be free at the time of the call; callers that can retry on
    "address already in use" should do so.

    Args:
        host: Interface to probe.

    Returns:
        A port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------


def _has_server_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in _PG_SERVER_BINARIES)


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    version = Path(path).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_postgres_bindir() -> Path:
    """Locate the directory holding the PostgreSQL server binaries.

    Looks, in order, at ``$PG_BINDIR``, ``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` (newest
    version first), ``/usr/local/pgsql/bin`` and the directory of an ``initdb`` found on ``$PATH``.

    Returns:
        A directory containing executable ``initdb`` and ``postgres``.

    Raises:
        PostgresNotFoundError: If no such directory exists.
    """
    candidates: list[Path] = []
    tried: list[str] = []
    env_dir = os.environ.get("PG_BINDIR")
    if env_dir:
        candidates.append(Path(env_dir))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    candidates.extend(
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    )
    candidates.append(Path("/usr/local/pgsql/bin"))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        tried.append(str(candidate))
        if _has_server_binaries(candidate):
            return candidate
    raise PostgresNotFoundError(
        "PostgreSQL server binaries (initdb, postgres) not found; looked in: "
        + ", ".join(dict.fromkeys(tried))
        + ". Install them (Debian/Ubuntu: `apt-get install postgresql`) or set PG_BINDIR."
    )


def _default_base_dir() -> Path:
    """Prefer a roomy ``/dev/shm`` (tmpfs): a cluster there starts ~2x and creates databases ~10x faster
    than on a disk-backed ``/tmp``. Docker's default 64 MB ``/dev/shm`` is too small and is skipped.
    """
    shm = Path("/dev/shm")
    try:
        st = os.statvfs(shm)
    except OSError:
        st = None
    if st is not None and st.f_bavail * st.f_frsize >= _MIN_SHM_BYTES and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())


def _world_traversable(path: Path) -> bool:
    """Return whether every directory from ``/`` down to ``path`` is searchable by other users."""
    path = path.resolve()
    for directory in (path, *path.parents):
        try:
            mode = directory.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


class PostgresServer:
    """A throwaway PostgreSQL cluster living in a temporary folder.

    The cluster uses ``trust`` authentication for the ``postgres`` role, listens on ``127.0.0.1`` on a
    free port and keeps its unix socket inside the temporary folder, so it never clashes with a system
    cluster. Durability is switched off (``fsync=off`` and friends) for speed. :meth:`stop` removes
    everything.

    PostgreSQL refuses to run as root; when the current process is root, ``initdb`` and ``postgres`` run
    as the OS user ``os_user`` (default ``postgres``) and the folder is handed over to that user.

    Example::

        with PostgresServer() as pg:
            url = pg.create_database("catalog")  # postgresql+psycopg2://postgres@127.0.0.1:PORT/catalog

    Args:
        bindir: Directory with the server binaries; found with :func:`find_postgres_bindir` if omitted.
        port: TCP port; a free one is picked (and retried on collisions) if omitted.
        base_dir: Parent of the temporary folder. Defaults to ``/dev/shm`` when it is a tmpfs with at least
            1 GiB free (much faster), else the system temp directory.
        startup_timeout: Seconds to wait for the server to accept connections.
        settings: Extra ``postgresql.conf`` settings passed as ``-c name=value``.
        os_user: OS user that runs the server when the current process is root.
    """

    superuser = "postgres"
    host = LOCALHOST

    def __init__(
        self,
        *,
        bindir: str | Path | None = None,
        port: int | None = None,
        base_dir: str | Path | None = None,
        startup_timeout: float = 30.0,
        settings: Mapping[str, str] | None = None,
        os_user: str = "postgres",
    ) -> None:
        self._bindir = Path(bindir) if bindir is not None else None
        self._requested_port = port
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._startup_timeout = startup_timeout
        self._settings = dict(settings or {})
        self._os_user = os_user
        self._port: int | None = None
        self._root: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        """Wall-clock seconds the last :meth:`start` took (initdb + server start)."""

    # -- properties ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port the server listens on."""
        if self._port is None:
            raise ServiceError("PostgresServer is not running; call start() first")
        return self._port

    @property
    def root(self) -> Path:
        """Temporary folder holding the data directory, socket and log."""
        if self._root is None:
            raise ServiceError("PostgresServer is not running; call start() first")
        return self._root

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """Directory holding the server's unix socket."""
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        """File receiving the server's output."""
        return self.root / "postgres.log"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of ``database`` (which must exist).

        Args:
            database: Database name.

        Returns:
            ``postgresql+psycopg2://postgres@127.0.0.1:PORT/<database>``.
        """
        return f"postgresql+psycopg2://{self.superuser}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """Return a libpq connection string (for ``psycopg2.connect`` or ``psql``) for ``database``.

        Args:
            database: Database name.

        Returns:
            A ``key=value`` connection string.
        """
        return f"host={self.host} port={self.port} user={self.superuser} dbname={database}"

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Self:
        """Create the cluster and start the server; returns once it accepts connections.

        Returns:
            ``self``, for chaining.

        Raises:
            PostgresNotFoundError: If the server binaries are missing.
            ServiceError: If the cluster cannot be created or the server does not come up.
        """
        if self.running:
            return self
        started = time.monotonic()
        bindir = self._bindir = self._bindir or find_postgres_bindir()
        if not _has_server_binaries(bindir):
            raise PostgresNotFoundError(f"{bindir} does not contain executable initdb and postgres")
        run_as = self._resolve_os_user()
        self._root = self._make_root(run_as)
        try:
            self._initdb(bindir, run_as)
            attempts = 1 if self._requested_port is not None else 5
            for attempt in range(attempts):
                self._port = self._requested_port or free_port()
                try:
                    self._launch(bindir, run_as)
                    break
                except _PortInUseError:
                    if attempt == attempts - 1:
                        raise ServiceError(
                            f"PostgreSQL could not bind a port after {attempts} attempts"
                        ) from None
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """Shut the server down (fast mode) and delete its folder. Safe to call more than once."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # SIGINT = "fast" shutdown: abort transactions, disconnect clients, checkpoint, exit.
            for sig, grace in ((signal.SIGINT, 15.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
                try:
                    proc.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._root = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self.running else "stopped"
        return f"<PostgresServer {state}>"

    # -- databases ----------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create an empty database.

        Args:
            name: Database name: letters, digits and underscores, not starting with a digit.

        Returns:
            The database's SQLAlchemy URL, ``postgresql+psycopg2://postgres@127.0.0.1:PORT/<name>``.

        Raises:
            ValueError: If ``name`` is not a plain identifier.
            ServiceError: If the server is not running or the database cannot be created.
        """
        if not _DB_NAME_RE.match(name):
            raise ValueError(f"invalid database name {name!r}: use letters, digits and underscores")
        if not self.running:
            raise ServiceError("PostgresServer is not running; call start() first")
        self._execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, terminating any connections to it.

        Args:
            name: Database name.

        Raises:
            ValueError: If ``name`` is not a plain identifier.
            ServiceError: If the server is not running or the database cannot be dropped.
        """
        if not _DB_NAME_RE.match(name):
            raise ValueError(f"invalid database name {name!r}: use letters, digits and underscores")
        if not self.running:
            raise ServiceError("PostgresServer is not running; call start() first")
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        """Run one statement in autocommit mode on the ``postgres`` database."""
        try:
            import psycopg2
        except ImportError:
            self._psql(sql)
            return
        try:
            conn = psycopg2.connect(self.dsn())
        except psycopg2.Error as exc:
            raise ServiceError(f"cannot connect to {self.url()}: {exc}") from exc
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        except psycopg2.Error as exc:
            raise ServiceError(f"{sql!r} failed: {exc}") from exc
        finally:
            conn.close()

    def _psql(self, sql: str) -> None:
        psql = (self._bindir or find_postgres_bindir()) / "psql"
        result = subprocess.run(
            [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(), "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"psql failed ({result.returncode}): {result.stderr.strip()}")

    # -- internals ----------------------------------------------------------------------------------

    def _resolve_os_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(self._os_user)
        except KeyError:
            raise ServiceError(
                f"PostgreSQL refuses to run as root and there is no OS user {self._os_user!r} to run it "
                "as; run as a non-root user or create that user (the Debian postgresql package does)."
            ) from None

    def _make_root(self, run_as: pwd.struct_passwd | None) -> Path:
        base = self._base_dir or _default_base_dir()
        if run_as is not None and not _world_traversable(base):
            # The server user must be able to reach its folder; /tmp always qualifies.
            base = Path("/tmp")
        root = Path(tempfile.mkdtemp(prefix="rat-pg-", dir=base))
        (root / "socket").mkdir()
        if run_as is not None:
            for path in (root, root / "socket"):
                os.chown(path, run_as.pw_uid, run_as.pw_gid)
        return root

    def _popen_kwargs(self, run_as: pwd.struct_passwd | None) -> dict[str, Any]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PG") and key not in {"LANG", "LANGUAGE"} and not key.startswith("LC_")
        }
        env["LC_ALL"] = "C"
        kwargs: dict[str, Any] = {"cwd": str(self.root), "env": env, "stdin": subprocess.DEVNULL}
        if run_as is not None:
            env.update(HOME=run_as.pw_dir, USER=run_as.pw_name, LOGNAME=run_as.pw_name)
            kwargs.update(user=run_as.pw_uid, group=run_as.pw_gid, extra_groups=[])
        return kwargs

    def _initdb(self, bindir: Path, run_as: pwd.struct_passwd | None) -> None:
        cmd = [
            str(bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            self.superuser,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ]
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, check=False, **self._popen_kwargs(run_as)
        )
        if result.returncode != 0:
            raise ServiceError(
                f"initdb failed with exit code {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )

    def _launch(self, bindir: Path, run_as: pwd.struct_passwd | None) -> None:
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "logging_collector": "off",
            **self._settings,
        }
        cmd = [str(bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal must not shut it down under our feet
                **self._popen_kwargs(run_as),
            )
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                log_text = self._log_tail()
                if "could not bind" in log_text or "Address already in use" in log_text:
                    raise _PortInUseError
                raise ServiceError(f"postgres exited with code {code} during startup; log:\n{log_text}")
            if self._is_ready(pid_file):
                return
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"postgres did not accept connections within {self._startup_timeout:.0f}s; "
                    f"log:\n{self._log_tail()}"
                )
            time.sleep(0.02)

    @staticmethod
    def _is_ready(pid_file: Path) -> bool:
        # Line 8 of postmaster.pid is the postmaster status; "ready" means it accepts connections
        # (this is what `pg_ctl start -w` waits for).
        try:
            lines = pid_file.read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def _log_tail(self, max_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError as exc:
            return f"<log unavailable: {exc}>"


class _PortInUseError(Exception):
    pass


# --------------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------------


class S3Server:
    """An in-process S3 endpoint (moto's ``ThreadedMotoServer``) on ``127.0.0.1``.

    The server accepts any credentials; the fixed values below are what the helpers hand out. All buckets
    live in memory and vanish with the server. Clients must be given the endpoint explicitly; nothing is
    written to ``os.environ``:

    * boto3: :meth:`client`, or ``boto3.client("s3", endpoint_url=s3.endpoint, ...)``
    * pyarrow: :meth:`pyarrow_filesystem`
    * s3fs / pandas ``storage_options``: :meth:`storage_options`
    * pyiceberg FileIO: :meth:`pyiceberg_properties`
    * child processes / AWS SDKs configured from the environment: :meth:`env`

    Args:
        port: TCP port; the OS picks a free one if omitted (no race).
        host: Interface to listen on.
        quiet: Silence werkzeug's per-request access log (by raising the ``werkzeug`` logger to
            WARNING, only if nobody has configured that logger's level).
    """

    access_key_id = "testing"
    secret_access_key = "testing"
    region = "us-east-1"

    def __init__(self, *, port: int | None = None, host: str = LOCALHOST, quiet: bool = True) -> None:
        self._requested_port = port
        self.host = host
        self._quiet = quiet
        self._server: Any = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """TCP port the server listens on."""
        if self._port is None:
            raise ServiceError("S3Server is not running; call start() first")
        return self._port

    @property
    def endpoint(self) -> str:
        """Endpoint URL, ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread has been started and not stopped."""
        return self._server is not None

    def start(self) -> Self:
        """Start the server in a daemon thread; returns once it listens.

        Returns:
            ``self``, for chaining.

        Raises:
            ServiceError: If moto's server extra (``moto[server]``) is not installed.
        """
        if self._server is not None:
            return self
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise ServiceError(f"moto's server is not installed (pip install 'moto[server]'): {exc}") from exc
        werkzeug_logger = logging.getLogger("werkzeug")
        if self._quiet and werkzeug_logger.level == logging.NOTSET:
            werkzeug_logger.setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=self.host, port=self._requested_port or 0, verbose=False)
        server.start()
        host_port: tuple[str, int] = server.get_host_and_port()
        self._server = server
        self._port = host_port[1]
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and drop all its data. Safe to call more than once."""
        atexit.unregister(self.stop)
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            # werkzeug's shutdown() leaves the listening socket open.
            with contextlib.suppress(Exception):
                server._server.server_close()
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"endpoint={self.endpoint}" if self.running else "stopped"
        return f"<S3Server {state}>"

    # -- client helpers -----------------------------------------------------------------------------

    def client(self) -> Any:
        """Return a boto3 S3 client bound to this server.

        Returns:
            A ``botocore`` S3 client.
        """
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )

    def create_bucket(self, name: str) -> str:
        """Create a bucket.

        Args:
            name: Bucket name (3-63 characters: lowercase letters, digits, dots and hyphens).

        Returns:
            ``name``, for convenience.

        Raises:
            ValueError: If ``name`` is not a valid bucket name.
        """
        if not _BUCKET_RE.match(name):
            raise ValueError(f"invalid bucket name {name!r}")
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.client().create_bucket(**kwargs)
        return name

    def env(self) -> dict[str, str]:
        """Environment variables pointing AWS SDKs at this server, e.g. for a child process.

        Returns:
            ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``,
            ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_S3`` (honoured by boto3 >= 1.28 and the AWS C++
            SDK used by pyarrow), and ``AWS_EC2_METADATA_DISABLED=true`` (no slow instance-metadata
            lookups).
        """
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``s3fs.S3FileSystem`` (also pandas' ``storage_options``).

        Returns:
            ``key``, ``secret``, ``endpoint_url`` and ``client_kwargs`` with the region.
        """
        return {
            "key": self.access_key_id,
            "secret": self.secret_access_key,
            "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": self.region},
        }

    def pyarrow_filesystem(self) -> Any:
        """Return a ``pyarrow.fs.S3FileSystem`` bound to this server.

        Returns:
            The filesystem; paths are ``"bucket/key"``.
        """
        from pyarrow.fs import S3FileSystem

        return S3FileSystem(
            endpoint_override=f"{self.host}:{self.port}",
            scheme="http",
            access_key=self.access_key_id,
            secret_key=self.secret_access_key,
            region=self.region,
        )

    def pyiceberg_properties(self) -> dict[str, str]:
        """pyiceberg catalog/FileIO properties for this server.

        Returns:
            ``s3.endpoint``, ``s3.access-key-id``, ``s3.secret-access-key`` and ``s3.region``.
        """
        return {
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": self.access_key_id,
            "s3.secret-access-key": self.secret_access_key,
            "s3.region": self.region,
        }
