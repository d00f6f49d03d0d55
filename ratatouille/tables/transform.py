"""A transform: SQL over references, its result written to a target, in one straight line.

plan (the target, the mode, the ``@new`` positions) → compute (expand the references on the heads just
read, run the query) → commit (write on the head the query read, or run again when it moved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, InvalidInput
from ..incremental import ON_REWRITE, Incremental
from ..sqltext import find_placeholders
from .commit import MAX_ATTEMPTS, parameter_properties
from .partitioning import normalize_partition_by
from .writing import SourceMoved, WriteResult, check_mode

if TYPE_CHECKING:
    from ..session import Lakehouse


def transform(
    session: Lakehouse,
    sql: str,
    target: str,
    mode: str = "overwrite",
    merge_keys: list[str] | str | None = None,
    parameters: Mapping[str, Any] | None = None,
    partition_by: str | Sequence[str] | None = None,
    on_rewrite: str = "error",
) -> WriteResult:
    """Run SQL and write its result to ``target`` on the session's branch.

    ``{ns.t@new}`` references read only the rows ``target`` has not consumed yet; the positions are
    committed with the data (see :mod:`ratatouille.incremental`). ``on_rewrite="full"``: when such a
    source was rewritten (merge, delete, overwrite) since, every ``@new`` source is read in full and an
    append becomes an overwrite of the target.

    Raises:
        InvalidInput: A bad mode, partitioning, ``on_rewrite`` or target; nothing is run.
        Conflict: Other writers kept moving the target while the query ran; nothing was written.
    """
    keys = [merge_keys] if isinstance(merge_keys, str) else merge_keys
    check_mode(mode, keys)  # fail before running anything
    normalize_partition_by(partition_by)
    if on_rewrite not in ON_REWRITE:
        raise InvalidInput(f"unknown on_rewrite {on_rewrite!r}: use one of {', '.join(ON_REWRITE)}")
    ref = session.write_target(target)
    # Recorded so that dev mode can replay the transform on a newer main (rebase).
    recorded = {
        "sql": sql,
        "merge_keys": ",".join(keys or []),
        **parameter_properties(parameters, session.settings.record_parameters),  # values only if opted in
    }
    incremental = any(f.table is not None and f.table.new for f in find_placeholders(sql))
    for _ in range(MAX_ATTEMPTS):
        load = Incremental.load
        inc = load(session.catalog, ref.identifier, session.branch, on_rewrite) if incremental else None
        expanded = session.expand(sql, cached=True, fill=False, incremental=inc)
        write_mode, context = mode, recorded
        if inc is not None and inc.full:
            # A source was rewritten: read every @new source in full, and replace what it fed.
            inc = Incremental.load(session.catalog, ref.identifier, session.branch, on_rewrite)
            inc.read_all = True
            expanded = session.expand(sql, cached=True, fill=False, incremental=inc)
            write_mode = "overwrite" if mode == "append" else mode
        # A query that reads the table it writes (its head, not a pinned snapshot) must write on that
        # same head: a commit landing in between would be lost by an overwrite or merge computed from
        # the older rows. The write checks it, and the query runs again when the head moved. An
        # incremental run too: its positions were read on that head.
        read = {
            t.snapshot_id
            for t in expanded.tables
            if t.ref.identifier == ref.identifier and not t.ref.is_pinned
        }
        if inc is not None:
            context = {**recorded, "consumed": inc.recorded}
            if inc.target_head is not None:
                read.add(inc.target_head)
        data = session._run(expanded, parameters)
        if inc is not None and inc.unchanged and data.num_rows == 0 and write_mode in ("append", "merge"):
            # Nothing arrived and the positions stay: no snapshot at all.
            return WriteResult(ref.identifier, write_mode, session.branch, 0, 0, 0, inc.target_head)
        try:
            return session.write(
                data, target, mode=write_mode, merge_keys=keys, operation=f"transform:{write_mode}",
                context=context, partition_by=partition_by,
                source_snapshot=read.pop() if len(read) == 1 else None,
            )  # fmt: skip
        except SourceMoved:
            continue
    raise Conflict(
        f"could not write to {ref.identifier}: other writers kept changing it while the query that reads "
        "it ran; nothing was written, try again"
    )
