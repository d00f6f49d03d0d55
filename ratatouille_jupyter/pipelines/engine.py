"""Execute a notebook papermill-style in a fresh kernel, with the run's environment and a deadline.

papermill injects the parameters after the ``parameters`` cell and saves the executed notebook after
every cell. On top of it, this module:

* starts the kernel with the run's environment (``RAT_BRANCH``, ``RAT_CONTEXT``, the lakehouse's
  ``RAT_*`` settings) and in the notebook's folder, without touching this process's environment;
* runs a start-up file in the kernel (``--IPKernelApp.exec_files``: no cell is added to the notebook)
  that registers an IPython ``pre_run_cell`` callback. Before every cell it sets ``RAT_CONTEXT_CELL``
  to the cell's position (1-based, counting every cell of the pipeline notebook) and, once the notebook
  imported ratatouille, puts ``rat`` back on the run's branch with the run's context and that cell in
  ``rat.session.context``: every snapshot the run commits records the pipeline, the run id and the
  cell. The callback knows the cell by a hash of its source (nbclient does not send cell ids), walking
  forward in run order, and never imports ratatouille itself (a notebook that does not use it pays
  nothing). The kernel must be IPython's (``ipykernel``);
* applies one deadline to the whole attempt (``timeout``), as the remaining time of each cell;
* turns a failure into an :class:`Outcome` naming the failing cell.

Importing papermill costs seconds: it happens in :func:`execute`, never at import time.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ENGINE_NAME = "ratatouille"

_HOOK = """\
# Run by ratatouille when the kernel of a pipeline run starts: keeps `rat` on the run's branch and stamps
# the running cell on every snapshot the run commits.
def _rat_pipeline_hook():
    import hashlib
    import os
    import sys

    branch, context, cells = {branch!r}, {context!r}, {cells!r}
    state = {{"next": 0}}

    def pre_run_cell(info):
        digest = hashlib.sha1((getattr(info, "raw_cell", None) or "").encode()).hexdigest()
        cell = ""
        for index in range(state["next"], len(cells)):
            if cells[index][1] == digest:
                state["next"] = index + 1
                cell = str(cells[index][0])
                break
        os.environ["RAT_CONTEXT_CELL"] = cell  # a session opened during the cell starts with it
        module = sys.modules.get("ratatouille")
        if module is None:  # not imported yet: nothing to keep on the branch
            return
        session = module.rat.session
        if session.branch != branch:
            session.use_branch(branch)
        session.context.update(context)
        session.context["cell"] = cell

    get_ipython().events.register("pre_run_cell", pre_run_cell)


_rat_pipeline_hook()
del _rat_pipeline_hook
"""


@dataclass(frozen=True)
class Outcome:
    """How one execution ended.

    Attributes:
        ok: True when every cell ran.
        output: The executed notebook (written even on failure).
        failed_cell: 1-based position of the failing cell in the pipeline notebook (None: none, or not
            one of its cells).
        error: One line: the exception and its message, or the timeout.
        source: The first line of the failing cell's source.
        timed_out: True when the deadline passed.
    """

    ok: bool
    output: Path
    failed_cell: int | None = None
    error: str = ""
    source: str = ""
    timed_out: bool = False


def _digest(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()


def hook_source(branch: str, context: Mapping[str, str], cells: list[tuple[int, str]]) -> str:
    """The kernel's start-up code (see the module docstring)."""
    digests = [(position, _digest(source)) for position, source in cells]
    return _HOOK.format(branch=branch, context=dict(context), cells=digests)


def execute(
    notebook: Path,
    output: Path,
    *,
    parameters: Mapping[str, Any],
    env: Mapping[str, str],
    branch: str,
    context: Mapping[str, str],
    timeout: float | None = None,
    kernel_name: str | None = None,
) -> Outcome:
    """Run ``notebook`` into ``output`` in a fresh kernel; see the module docstring.

    Args:
        notebook: The pipeline notebook (never modified).
        output: Where the executed notebook is written.
        parameters: Values injected after the ``parameters`` cell (already checked).
        env: The kernel's whole environment.
        branch: The run's branch (the start-up hook keeps ``rat`` on it).
        context: Provenance stamped on every snapshot (pipeline, run id...).
        timeout: Seconds the whole execution may take (None: no limit).
        kernel_name: The kernel to start (None: the notebook's).

    Returns:
        The outcome; failures of the notebook are reported here, not raised.
    """
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    _register_engine()
    nb = nbformat.read(str(notebook), as_version=4)
    nb = nbformat.v4.upgrade(nb) or nb
    cells = [(i, c.source) for i, c in enumerate(nb.cells, start=1) if c.cell_type == "code"]
    positions = {c.id: i for i, c in enumerate(nb.cells, start=1)}
    output.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    tracker: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="rat-pipeline-") as folder:
        hook = Path(folder) / "pipeline_hook.py"
        hook.write_text(hook_source(branch, context, cells), encoding="utf-8")
        try:
            papermill.execute_notebook(
                nb,
                str(output),
                parameters=dict(parameters) or None,
                engine_name=_ENGINE_NAME,
                kernel_name=kernel_name,
                language="python",
                progress_bar=False,
                log_output=False,
                kernel_env=dict(env),
                kernel_cwd=str(notebook.parent),
                kernel_arguments=[f"--IPKernelApp.exec_files={hook}"],
                deadline=deadline,
                tracker=tracker,
            )
        except papermill.PapermillExecutionError as e:
            position, source = _failed_cell(output, positions)
            return Outcome(False, output, position, f"{e.ename}: {e.evalue}".strip().rstrip(":"), source)
        except (CellTimeoutError, TimeoutError) as e:
            position = positions.get(tracker.get("cell_id", ""))
            source = _first_line(tracker.get("source", ""))
            error = f"timed out after {timeout:g} s" if timeout is not None else f"timed out: {e}"
            return Outcome(False, output, position, error, source, timed_out=True)
        except DeadKernelError as e:
            position = positions.get(tracker.get("cell_id", ""))
            source = _first_line(tracker.get("source", ""))
            return Outcome(False, output, position, f"the kernel died: {e}", source)
    return Outcome(True, output)


def _failed_cell(output: Path, positions: Mapping[str, int]) -> tuple[int | None, str]:
    """The position and first line of the failing cell, read back from the executed notebook."""
    try:
        cells = json.loads(output.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None, ""
    for cell in cells:
        failed = cell.get("metadata", {}).get("papermill", {}).get("exception") is True
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if failed or errored:
            source = "".join(cell.get("source", ""))
            return positions.get(cell.get("id", "")), _first_line(source)
    return None, ""


def _first_line(source: str) -> str:
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= 120 else line[:119] + "…"


_registered = False


def _register_engine() -> None:
    """Register the papermill engine that passes the kernel's environment, folder and deadline."""
    global _registered
    if _registered:
        return
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class RatEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(  # type: ignore[override]
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: float | None = None,
            kernel_env: dict[str, str] | None = None,
            kernel_cwd: str | None = None,
            kernel_arguments: list[str] | None = None,
            deadline: float | None = None,
            tracker: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            seen = tracker if tracker is not None else {}
            start = nb_man.cell_start

            def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                seen.update(cell_id=cell.get("id", ""), source=cell.get("source", ""))
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start

            def remaining(_cell: Any) -> int | None:
                if deadline is None:
                    return None
                return max(1, int(deadline - time.monotonic() + 0.999))

            client = PapermillNotebookClient(
                nb_man,
                timeout_func=remaining,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=_logger(),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                extra_arguments=kernel_arguments or [],
            )
            return client.execute(env=kernel_env, cwd=kernel_cwd)

    papermill_engines.register(_ENGINE_NAME, RatEngine)
    _registered = True


def _logger() -> Any:
    from papermill.log import logger

    return logger
