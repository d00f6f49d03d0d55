"""``%load_ext ratatouille``: magics, ``rat`` in the namespace, completion, inspection, cell provenance.

Completion knows tables, columns and SQL words; inspection (Shift+Tab) shows a table's schema.

Loading is cheap: nothing here starts the engine or opens the catalog; the heavy modules (itables, the
engine drivers, pyiceberg) are imported when a magic first needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What load registered, per shell, so that %reload_ext does not register twice.
_LOADED: dict[int, tuple[Any, Any, Any, Any]] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, their ``%config`` options, completion, and put ``rat`` in the namespace."""
    import ratatouille

    from .completion import TableInspector, TableNames, TableSchemas, table_matcher
    from .magics import RatMagics

    previous = _LOADED.get(id(ipython))
    if previous is not None and previous[0].rat is not ratatouille.rat:
        # %reload_ext re-ran ratatouille/__init__.py, which made a new, unconnected ``rat``: keep the
        # session the notebook was using (its lakehouse, branch and temp tables).
        ratatouille.rat = previous[0].rat
    rat = ratatouille.rat
    unload_ipython_extension(ipython)
    magics = RatMagics(shell=ipython, rat=rat)
    ipython.register_magics(magics)
    from .magics.pipeline import PipelineMagics

    ipython.register_magics(PipelineMagics)
    ipython.events.register("pre_run_cell", magics.cells.pre_run_cell)
    names, schemas = TableNames(rat), TableSchemas(rat)
    # A cell may create, drop or write tables: the next completion asks the catalog again.
    ipython.events.register("post_run_cell", names.invalidate)
    ipython.events.register("post_run_cell", schemas.invalidate)
    matcher = table_matcher(names.get, schemas, lambda: ipython.user_ns)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers.append(matcher)
    inspector = TableInspector(ipython, names, schemas)
    inspector.install()
    warm = _warm_up_once(ipython)
    ipython.events.register("post_run_cell", warm)  # after the loading cell, not during it
    _LOADED[id(ipython)] = (magics, matcher, (names, schemas, warm), inspector)
    ipython.push({"rat": rat})


def unload_ipython_extension(ipython: Any) -> None:
    """Undo :func:`load_ipython_extension` (hooks, completion, options); the magics are replaced on load."""
    loaded = _LOADED.pop(id(ipython), None)
    if loaded is None:
        return
    magics, matcher, (names, schemas, warm), inspector = loaded
    ipython.events.unregister("pre_run_cell", magics.cells.pre_run_cell)
    ipython.events.unregister("post_run_cell", names.invalidate)
    ipython.events.unregister("post_run_cell", schemas.invalidate)
    if warm in ipython.events.callbacks["post_run_cell"]:
        ipython.events.unregister("post_run_cell", warm)
    inspector.uninstall()
    completer = getattr(ipython, "Completer", None)
    if completer is not None and matcher in completer.custom_matchers:
        completer.custom_matchers.remove(matcher)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)


def _warm_up_once(ipython: Any) -> Callable[..., None]:
    """A ``post_run_cell`` callback that, once, imports completion's modules in a background thread."""

    def warm(*_: Any) -> None:
        import threading

        from .completion import warm_up

        ipython.events.unregister("post_run_cell", warm)
        threading.Thread(target=warm_up, name="ratatouille-completion-warm-up", daemon=True).start()

    return warm
