"""The Jupyter server extension application: configuration and route registration.

Configure it like any Jupyter application, in ``jupyter_server_config.py``::

    c.RatatouilleApp.home = "/data/lakehouse"      # else RAT_HOME / ratatouille.toml
    c.RatatouilleApp.read_only = True              # refuse branch actions and compaction
    c.RatatouilleApp.preview_max_rows = 200

or on the command line: ``jupyter lab --RatatouilleApp.read_only=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Int, Unicode

from .base import EXPLORER_SETTING
from .routes import handlers
from .service import Explorer, Limits


class RatatouilleApp(ExtensionApp):
    """The lakehouse explorer's REST API under ``/ratatouille/``."""

    name = "ratatouille"
    description = "Lakehouse explorer REST API for the ratatouille JupyterLab sidebar."
    load_other_extensions = True

    home = Unicode(
        "",
        help="Lakehouse home folder. Empty: RAT_HOME, else the ratatouille.toml found from the server root.",
    ).tag(config=True)
    read_only = Bool(False, help="Refuse branch actions (create, fast-forward, drop) and Compact.").tag(
        config=True
    )
    preview_max_rows = Int(500, help="Most rows one preview may ask for.").tag(config=True)
    max_page_size = Int(1000, help="Most tables or snapshots in one page.").tag(config=True)
    default_page_size = Int(100, help="Page size when a request names none.").tag(config=True)
    poll_interval_ms = Int(
        5000, help="How often the sidebar polls /ratatouille/changes to refresh itself (0: never)."
    ).tag(config=True)
    max_workers = Int(4, help="Worker threads for catalog and engine calls.").tag(config=True)

    explorer: Explorer | None = None

    def initialize_settings(self) -> None:
        """Build the :class:`Explorer` (it opens nothing until the first request)."""
        from ratatouille.config import Settings
        from ratatouille.errors import ConfigError

        settings: Settings | None = None
        error: str | None = None
        try:
            if self.home:
                settings = Settings.from_env({**_environ(), "RAT_HOME": self.home}, cwd=self._root())
            else:
                settings = Settings.from_env(cwd=self._root())
        except ConfigError as e:  # keep the routes up: the sidebar shows this message
            error = f"ratatouille settings: {e}"
            self.log.error("%s", error)
        limits = Limits(
            max_page_size=max(1, self.max_page_size),
            default_page_size=max(1, min(self.default_page_size, self.max_page_size)),
            preview_max_rows=max(1, self.preview_max_rows),
            preview_default_rows=max(1, min(50, self.preview_max_rows)),
            poll_interval_ms=max(0, self.poll_interval_ms),
            read_only=self.read_only,
        )
        self.explorer = Explorer(settings, limits, max_workers=max(1, self.max_workers), config_error=error)
        self.settings[EXPLORER_SETTING] = self.explorer
        if settings is not None:
            self.log.info("ratatouille: lakehouse explorer on %s", settings.home)

    def initialize_handlers(self) -> None:
        """Register the routes of :data:`~ratatouille_jupyter.server.routes.ROUTES`."""
        self.handlers.extend(handlers())

    async def stop_extension(self) -> None:
        """Stop the worker threads."""
        if self.explorer is not None:
            self.explorer.close()

    def _root(self) -> Path:
        root: Any = getattr(self.serverapp, "root_dir", None)
        return Path(root) if root else Path.cwd()


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)
