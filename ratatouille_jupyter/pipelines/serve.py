"""``rat pipelines serve``: Dagster's webserver and daemon on the lakehouse, stopped cleanly on a signal.

Two child processes, each in its own process group (the webserver starts a code server of its own):

* ``dagster-webserver`` on ``--host``/``--port`` (default ``127.0.0.1:3000``): the UI and GraphQL API;
* ``dagster-daemon run``: schedules, and the queue of runs launched from the UI or the sidebar. Runs
  execute in processes the daemon starts, so they outlive the JupyterLab session that launched them.

Both load the workspace ``<dagster home>/workspace.yaml`` (code location ``ratatouille``, module
:mod:`ratatouille_jupyter.pipelines.definitions`, working directory = the lakehouse home, so the UI can
show executed notebooks). Ctrl-C or SIGTERM stops both (SIGTERM to each group, SIGKILL after a grace
period) and removes ``<dagster home>/serve.json``, the file that tells the sidebar where Dagster is.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ratatouille.config import Settings
from ratatouille.errors import Conflict

from .layout import dagster_home, settings_env

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
LOCATION_NAME = "ratatouille"
STATE_FILE = "serve.json"
_DAGSTER_YAML = """\
# Written by ratatouille (rat pipelines serve / run). Edit freely: it is not overwritten.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
# A pipeline run's log is its executed notebook (linked from the run) and the run's event log; capturing
# the step's raw stdout/stderr as well costs time on every run. Remove these lines to capture them.
compute_logs:
  module: dagster.core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""


def prepare_dagster_home(settings: Settings, workspace: bool = False) -> Path:
    """Create Dagster's home with ``dagster.yaml`` if missing (and, for ``serve``, ``workspace.yaml``).

    A home managed elsewhere (a read-only ``dagster.yaml``, as in the container stack) is used as it is.
    """
    home = dagster_home(settings)
    config = home / "dagster.yaml"
    if not config.exists():
        home.mkdir(parents=True, exist_ok=True)
        config.write_text(_DAGSTER_YAML, encoding="utf-8")
    if not workspace:
        return home
    text = (
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: ratatouille_jupyter.pipelines.definitions\n"
        f"      working_directory: {json.dumps(str(settings.home))}\n"
        f"      location_name: {LOCATION_NAME}\n"
    )
    (home / "workspace.yaml").write_text(text, encoding="utf-8")
    return home


def process_env(settings: Settings) -> dict[str, str]:
    """The environment of Dagster's processes: ``DAGSTER_HOME`` and the lakehouse's ``RAT_*`` settings."""
    env = settings_env(settings)
    env["DAGSTER_HOME"] = str(dagster_home(settings))
    return env


@dataclass(frozen=True)
class ServeState:
    """What ``serve.json`` holds: where the running webserver is.

    Attributes:
        url: The webserver's base URL.
        pid: The ``rat pipelines serve`` process.
        started: When it started (epoch seconds).
    """

    url: str
    pid: int
    started: float


def read_state(settings: Settings) -> ServeState | None:
    """The running ``rat pipelines serve`` of this lakehouse, or None (stale files are ignored)."""
    path = dagster_home(settings) / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        state = ServeState(str(data["url"]), int(data["pid"]), float(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return state


def wait_until_up(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll ``<url>/server_info`` until the webserver answers (False on timeout or when not ``alive``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as reply:
                if reply.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


class Server:
    """The webserver and daemon child processes.

    Args:
        settings: The lakehouse.
        host: Interface the webserver listens on.
        port: Its port.
        daemon: Also run ``dagster-daemon`` (schedules and queued runs need it).
        log: Where progress lines go.
    """

    def __init__(self, settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 daemon: bool = True, log: Callable[[str], None] = print) -> None:  # fmt: skip
        self.settings = settings
        self.host, self.port, self.daemon = host, port, daemon
        self.log = log
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def start(self) -> None:
        """Start the processes and write ``serve.json``.

        Raises:
            Conflict: Another ``rat pipelines serve`` runs on this lakehouse.
        """
        running = read_state(self.settings)
        if running is not None and running.pid != os.getpid():
            raise Conflict(
                f"rat pipelines serve already runs for this lakehouse (pid {running.pid}, {running.url})"
            )
        home = prepare_dagster_home(self.settings, workspace=True)
        from .dagster_defs import init_instance

        init_instance(home)
        env = process_env(self.settings)
        workspace = str(home / "workspace.yaml")
        py = sys.executable
        commands = {"webserver": [py, "-m", "dagster_webserver", "-h", self.host, "-p", str(self.port),
                                  "-w", workspace]}  # fmt: skip
        if self.daemon:
            commands["daemon"] = [py, "-m", "dagster._daemon", "run", "-w", workspace]
        for name, command in commands.items():
            self.children[name] = subprocess.Popen(
                command, env=env, cwd=self.settings.home, start_new_session=True, stdin=subprocess.DEVNULL
            )
        state = {"url": self.url, "pid": os.getpid(), "started": time.time(),
                 "children": {k: p.pid for k, p in self.children.items()}}  # fmt: skip
        (home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")

    def alive(self) -> bool:
        """True while every child runs."""
        return all(p.poll() is None for p in self.children.values())

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM each child's process group, SIGKILL what is left after ``grace`` seconds."""
        if self._stopping:
            return
        self._stopping = True
        for child in self.children.values():
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
        for child in self.children.values():
            _signal_group(child, signal.SIGKILL)  # the code servers the webserver started, if any remain
        state = dagster_home(self.settings) / STATE_FILE
        try:
            if json.loads(state.read_text(encoding="utf-8")).get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, daemon: bool = True,
          ready_timeout: float = 120.0, log: Callable[[str], None] = print) -> int:  # fmt: skip
    """Run the webserver and daemon until Ctrl-C, SIGTERM, or a child exits; return the exit status."""
    server = Server(settings, host, port, daemon, log)
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stop_requested.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.start()
        log(f"Dagster for the lakehouse {settings.home}: starting on {server.url} "
            f"(Dagster home {dagster_home(settings)})")  # fmt: skip
        if wait_until_up(server.url, ready_timeout, lambda: server.alive() and not stop_requested):
            running = "runs" if daemon else "is off"
            log(f"Dagster UI ready at {server.url}; the daemon {running}. Ctrl-C to stop.")
        while not stop_requested and server.alive():
            time.sleep(0.3)
        crashed = [name for name, p in server.children.items() if p.poll() is not None]
        if crashed and not stop_requested:
            log(f"the Dagster {' and '.join(crashed)} exited; stopping")
            return 1
        return 0
    finally:
        log("stopping Dagster…")
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log("stopped")
