"""Reference expansion: each ``{ns.t}`` of a query becomes a read of exactly one snapshot's files.

A reference resolves through the catalog (the session's branch unless it names a ref, snapshot or
time), keeps only the data files its query's provable conditions may match (:mod:`.pruning`), and is
replaced by the engine's read of those files, or by the snapshot cache's copy when it holds one.
``{ns.t@new}`` reads the files a transform's target has not consumed (:mod:`ratatouille.incremental`),
and ``{temp.name}`` a session temp table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..reading import ReadPlan, ResolvedTable, plan_read, source_sql
from ..sqltext import Found, TableRef, find_placeholders, needs_alias, quote_identifier, substitute
from .pruning import pruning_enabled, reference_filters, table_filter

if TYPE_CHECKING:
    from ..incremental import Incremental
    from ..session import Lakehouse

#: The namespace of session temp tables (``{temp.name}``).
TEMP_NAMESPACE = "temp"


@dataclass
class ExpandedSQL:
    """SQL with its table references replaced by snapshot-pinned reads.

    Attributes:
        original: The SQL as written.
        sql: The SQL the engine runs.
        tables: The resolved references, in order.
        reads: What each of ``tables`` reads: its planned and total data files, the filter used.
        spans: (start in ``sql``, end in ``sql``, start in ``original``) of each replacement, to map
            engine error positions back to the user's text.
        cached: For each of ``tables``, the snapshot cache's table that served it ("" when it read the
            files).
    """

    original: str
    sql: str
    tables: list[ResolvedTable] = field(default_factory=list)
    reads: list[ReadPlan] = field(default_factory=list)
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)

    @property
    def from_cache(self) -> bool:
        """True when some reference was served by the snapshot cache."""
        return any(self.cached)

    def original_offset(self, position: int) -> int:
        """Map an offset in the expanded SQL to the user's SQL."""
        shift = 0
        for start, end, o_start, o_end in self.spans:
            if position < start:
                break
            if position < end:
                return o_start
            shift = o_end - end
        return max(0, position + shift)


def expand(
    session: Lakehouse,
    sql: str,
    cached: bool = False,
    fill: bool = True,
    incremental: Incremental | None = None,
) -> ExpandedSQL:
    """Expand the references of ``sql`` for ``session`` (see :meth:`Lakehouse.expand` for the arguments)."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("the SQL is empty")
    found = find_placeholders(sql)
    expanded = ExpandedSQL(original=sql, sql=sql)
    if not found:
        return expanded
    rendered: dict[str, str] = {}
    conditions = reference_filters(sql) if pruning_enabled() else {}

    def render(f: Found) -> str:
        assert f.table is not None
        key = str(f.table)
        if key not in rendered:
            if f.table.namespace == TEMP_NAMESPACE:
                rendered[key] = session.temp_source(f.table)
                return rendered[key]
            if f.table.new:
                resolved, plan, from_cache = _new_rows(session, f.table, incremental)
            else:
                resolved = session.resolve(f.table)
                meta = resolved.table.metadata
                row_filter = table_filter(conditions.get(key), resolved.schema, meta.schemas, meta.schema())
                plan = plan_read(resolved, row_filter)
                from_cache = _cached_source(session, resolved, plan, fill) if cached else ""
            expanded.tables.append(resolved)
            expanded.reads.append(plan)
            expanded.cached.append(from_cache)
            rendered[key] = from_cache or source_sql(session.engine, resolved, plan)
        return rendered[key]

    def placed(f: Found) -> str:
        text = render(f)
        if f.table is not None and needs_alias(sql, f):
            text += f" AS {quote_identifier(f.table.name)}"
        return text

    pieces = [(f, placed(f)) for f in found]
    texts = iter(text for _, text in pieces)
    out_sql = substitute(sql, found, lambda _f: next(texts))
    pos_out, pos_in = 0, 0
    for f, text in pieces:
        start = pos_out + (f.start - pos_in)
        expanded.spans.append((start, start + len(text), f.start, f.end))
        pos_out, pos_in = start + len(text), f.end
    expanded.sql = out_sql
    return expanded


def _new_rows(
    session: Lakehouse, ref: TableRef, incremental: Incremental | None
) -> tuple[ResolvedTable, ReadPlan, str]:
    """The read of ``{ns.t@new}``: the files its write's target has not consumed (never the cache's)."""
    if incremental is None:
        raise InvalidInput(
            f"{{{ref}}} reads the rows a transform's target has not consumed yet: use it "
            "in rat.transform(sql, target) or %%rat_sql target=..., not in a plain query"
        )
    head = session.resolve(TableRef(ref.namespace, ref.name))
    resolved = ResolvedTable(ref, head.table, head.snapshot_id, head.branch)
    return resolved, incremental.plan(resolved), ""


def _cached_source(session: Lakehouse, resolved: ResolvedTable, plan: ReadPlan, fill: bool) -> str:
    """The snapshot cache's table for this read, filled if it should be; "": read the files."""
    cache = session.engine.cache
    if not cache.enabled or resolved.snapshot_id is None or not plan.total_files:
        return ""
    snap = resolved.snapshot
    size = snap.summary["total-files-size"] if snap is not None and snap.summary is not None else None
    key = (str(resolved.table.metadata.table_uuid), resolved.snapshot_id, resolved.schema_key)
    return (
        cache.source(
            key,
            ".".join(resolved.table.name()),
            pruned=plan.pruned,
            fill=fill,
            parquet_bytes=int(size) if size is not None and str(size).isdigit() else 0,
            full_source=lambda: source_sql(session.engine, resolved),
        )
        or ""
    )
