"""The snapshot cache: engine-native copies of the snapshots a session reads.

A notebook user runs many queries against the same few snapshots, and a snapshot never changes, so its
rows can be kept in the engine's own format (a ``Memory`` table) instead of being decoded from Parquet by
every query. An entry is keyed by (table uuid, snapshot id): a new snapshot is a new key, so a cached read
can never be stale, and nothing needs invalidating when a table changes.

- An entry holds every column and every row of its snapshot, read through the same SQL as an uncached
  read, so it serves any column subset and any filter. A read that was planned over fewer files (file
  pruning) never fills the cache alone: the second such read of a snapshot fills it with all its files.
- The bound (``RAT_CACHE_MB``) covers the entries' bytes as the engine counts them. Least-recently-used
  entries are evicted to make room before a fill (estimated from the snapshot's Parquet size) and after it
  (measured); the fill itself runs under a memory limit of the room left.
- A fill that fails (too large, out of memory, an engine error) never fails the query: the read goes to
  the files, and the reason is said once (a warning) and kept in :meth:`SnapshotCache.info`.
- The cache lives in this process's embedded engine only. On a ClickHouse server it is off: see
  ``docs/performance.md``.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..sqltext import quote_identifier, quote_literal
from .tuning import fill_settings

if TYPE_CHECKING:
    from .client import ClickHouseEngine

CACHE_DATABASE = "rat_cache"
#: How many bytes of engine memory one byte of Parquet takes, before any fill taught a better figure
#: (TPC-H lineitem: 232 MB of Parquet became 1,008 MB in a Memory table).
_INITIAL_EXPANSION = 5.0
#: Fills of at least this much Parquet teach the expansion estimate (a few rows take far more than
#: their Parquet size in a table's fixed overhead).
_LEARN_FROM_BYTES = 4 << 20
#: Memory a fill query needs beyond the rows it keeps (read buffers, one block in flight).
_FILL_HEADROOM = 64 << 20
#: Engine settings of every fill, besides its memory limit.
FILL_SETTINGS: dict[str, int | float | str] = {}


class CacheWarning(RuntimeWarning):
    """The snapshot cache could not serve a read (it went to the files): said once per reason."""


@dataclass(frozen=True)
class CacheInfo:
    """The state of the snapshot cache.

    Attributes:
        enabled: False when the cache is off (``RAT_CACHE_MB=0`` or a ClickHouse server).
        reason: Why it is off, or the last fill failure ("" when none).
        limit_bytes: The bound on the entries' bytes.
        entries: Snapshots cached.
        bytes: Their bytes in the engine.
        hits: Reads served by an entry.
        misses: Reads that went to the files.
        fills: Entries made.
        evictions: Entries dropped to make room.
        fill_failures: Fills that failed (the read went to the files).
        tables: One ``(table, snapshot id, bytes, hits)`` per entry, most recently used last.
    """

    enabled: bool
    reason: str
    limit_bytes: int
    entries: int
    bytes: int
    hits: int
    misses: int
    fills: int
    evictions: int
    fill_failures: int
    tables: tuple[tuple[str, int, int, int], ...] = ()

    def summary(self) -> str:
        """One line: what the cache holds and how well it serves."""
        if not self.enabled:
            return f"snapshot cache off: {self.reason}"
        return (
            f"snapshot cache: {self.entries} snapshot(s), {_mb(self.bytes)} of {_mb(self.limit_bytes)}, "
            f"{self.hits} hit(s), {self.misses} miss(es), {self.evictions} eviction(s)"
            + (f"; last failure: {self.reason}" if self.reason else "")
        )


@dataclass
class _Entry:
    name: str
    table: str
    snapshot_id: int
    bytes: int
    hits: int = 0


@dataclass
class _Stats:
    hits: int = 0
    misses: int = 0
    fills: int = 0
    evictions: int = 0
    fill_failures: int = 0
    reason: str = ""
    said: set[str] = field(default_factory=set)


#: (table uuid, snapshot id, id of the schema the snapshot is read with).
Key = tuple[str, int, int]


class SnapshotCache:
    """Engine-native copies of snapshots, bounded, least recently used first out.

    Args:
        engine: The embedded engine the entries live in.
        limit_bytes: The bound on the entries' bytes; 0 turns the cache off.
        off_reason: Why the cache is off when it is (shown by :meth:`info`).
    """

    def __init__(self, engine: ClickHouseEngine, limit_bytes: int, off_reason: str = "") -> None:
        self._engine = engine
        self.limit_bytes = max(0, limit_bytes)
        self._server_off = off_reason
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._refused: set[Key] = set()  # too large or failed: read from the files, never tried again
        self._pruned_reads: dict[Key, int] = {}
        self._expansion = _INITIAL_EXPANSION
        self._stats = _Stats()
        self._lock = threading.RLock()
        self._database_made = False
        # Two engines of one process share the embedded server: their entries must not share names.
        self._prefix = f"s{uuid.uuid4().hex[:6]}_"

    def set_limit(self, limit_bytes: int) -> None:
        """Change the bound (0 turns the cache off and drops every entry); entries over it are evicted."""
        with self._lock:
            self.limit_bytes = max(0, limit_bytes)
            self._evict_until(self.limit_bytes)

    @property
    def _off_reason(self) -> str:
        return self._server_off or ("RAT_CACHE_MB is 0" if not self.limit_bytes else "")

    @property
    def enabled(self) -> bool:
        """True when reads may be served from the cache."""
        return self.limit_bytes > 0 and not self._off_reason

    def source(
        self,
        key: Key,
        table: str,
        *,
        pruned: bool,
        parquet_bytes: int,
        fill: bool = True,
        full_source: Callable[[], str],
    ) -> str | None:
        """The cached table serving a read of snapshot ``key``, filling it if it should be; None: read files.

        Args:
            key: (table uuid, snapshot id, schema id).
            table: The table's name, for :meth:`info`.
            pruned: True when the read was planned over part of the snapshot's files.
            parquet_bytes: The snapshot's data files' size (0 if unknown), to make room before filling.
            full_source: The SQL reading every file of the snapshot (called only to fill).
            fill: False serves the read only when the snapshot is cached already.
        """
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                entry.hits += 1
                self._stats.hits += 1
                return entry.name
            self._stats.misses += 1
            if key in self._refused or not fill:
                return None
            if pruned:
                # One pruned read may be all the snapshot ever gets: only a second one pays for a fill.
                seen = self._pruned_reads.get(key, 0) + 1
                self._pruned_reads[key] = seen
                if seen < 2:
                    return None
            return self._fill(key, table, parquet_bytes, full_source)

    def _fill(self, key: Key, table: str, parquet_bytes: int, full_source: Callable[[], str]) -> str | None:
        if parquet_bytes > self.limit_bytes:  # decoded rows take at least their Parquet size
            self._refuse(key, f"{table} ({_mb(parquet_bytes)} of Parquet) is larger than RAT_CACHE_MB")
            return None
        # Room for the estimate (never more than everything); the fill's memory limit and the measured
        # size after it hold the bound when the estimate is short.
        self._evict_until(self.limit_bytes - min(int(parquet_bytes * self._expansion), self.limit_bytes))
        name = f"{quote_identifier(CACHE_DATABASE)}.{quote_identifier(self._entry_name(key))}"
        try:
            try:
                size = self._create(key, name, full_source)
            except Exception as e:
                if not _out_of_memory(e) or not self._entries or self._engine.cancelled():
                    raise
                # Memory was short (the snapshot is larger than estimated): make all the room and retry.
                self._drop(name)
                self._evict_until(0, keep=None)
                size = self._create(key, name, full_source)
        except Exception as e:  # any engine failure: the read goes to the files
            self._drop(name)
            if self._engine.cancelled() or isinstance(e, InvalidInput):
                # The user stopped the query, or the read itself is refused (a table this reader cannot
                # read): the files would say the same, so the error is the answer, not a cache warning.
                raise
            self._refuse(key, f"could not cache {table}: {_first_line(e)}")
            return None
        if size > self.limit_bytes:
            self._drop(name)
            self._refuse(key, f"{table} ({_mb(size)} in memory) is larger than RAT_CACHE_MB")
            return None
        if parquet_bytes >= _LEARN_FROM_BYTES and size > 0:
            # A running mean over real fills (small tables' fixed overhead would skew it, hence the floor).
            self._expansion = max(1.0, (self._expansion + size / parquet_bytes) / 2)
        self._entries[key] = _Entry(name, table, key[1], size)
        self._pruned_reads.pop(key, None)
        self._stats.fills += 1
        self._evict_until(self.limit_bytes, keep=key)
        return name

    def _create(self, key: Key, name: str, full_source: Callable[[], str]) -> int:
        """Copy the snapshot into the table ``name`` within the room left; return its bytes."""
        if not self._database_made:
            self._engine.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(CACHE_DATABASE)}")
            self._database_made = True
        self._engine.command(f"DROP TABLE IF EXISTS {name}")
        room = self.limit_bytes - self._used()
        limits = {**fill_settings(), **FILL_SETTINGS, "max_memory_usage": room + _FILL_HEADROOM}
        # Tracked: a long fill shows progress and can be cancelled like the query it serves.
        self._engine.command(
            f"CREATE TABLE {name} ENGINE = Memory AS SELECT * FROM {full_source()} "
            f"SETTINGS {', '.join(f'{k} = {v!r}' for k, v in limits.items())}",
            tracked=True,
        )
        return self._size(key)

    def forget(self, name: str) -> None:
        """Drop the entry whose table is ``name`` (it vanished or failed): later reads fill it again."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                if entry.name == name:
                    del self._entries[key]
                    self._drop(name)

    def clear(self) -> int:
        """Drop every entry, forget past failures and what fills taught; return how many were dropped."""
        with self._lock:
            count = len(self._entries)
            for entry in self._entries.values():
                self._drop(entry.name)
            self._entries.clear()
            self._refused.clear()
            self._pruned_reads.clear()
            self._stats = _Stats()
            self._expansion = _INITIAL_EXPANSION
            return count

    def info(self) -> CacheInfo:
        """Entries, bytes, hits and misses (see :class:`CacheInfo`)."""
        with self._lock:
            s = self._stats
            return CacheInfo(
                enabled=self.enabled,
                reason=self._off_reason or s.reason,
                limit_bytes=self.limit_bytes,
                entries=len(self._entries),
                bytes=self._used(),
                hits=s.hits,
                misses=s.misses,
                fills=s.fills,
                evictions=s.evictions,
                fill_failures=s.fill_failures,
                tables=tuple((e.table, e.snapshot_id, e.bytes, e.hits) for e in self._entries.values()),
            )

    # -- internals ---------------------------------------------------------------------------------

    def _used(self) -> int:
        return sum(e.bytes for e in self._entries.values())

    def _evict_until(self, budget: int, keep: Key | None = None) -> None:
        """Drop least recently used entries (never ``keep``) until the entries take ``budget`` bytes."""
        for key in list(self._entries):
            if self._used() <= budget:
                return
            if key == keep:
                continue
            self._drop(self._entries.pop(key).name)
            self._stats.evictions += 1

    def _size(self, key: Key) -> int:
        size = self._engine.value(
            "SELECT total_bytes FROM system.tables WHERE database = "
            f"{quote_literal(CACHE_DATABASE)} AND name = {quote_literal(self._entry_name(key))}"
        )
        return int(size or 0)

    def _entry_name(self, key: Key) -> str:
        table_uuid, snapshot_id, schema_id = key
        return f"{self._prefix}{table_uuid.replace('-', '')}_{snapshot_id & 0xFFFFFFFFFFFFFFFF:x}_{schema_id}"

    def _drop(self, name: str) -> None:
        try:
            self._engine.command(f"DROP TABLE IF EXISTS {name}")
        except Exception as e:  # a table that cannot be dropped still leaves the bookkeeping right
            self._say(f"could not drop the cached table {name}: {_first_line(e)}")

    def _refuse(self, key: Key, reason: str) -> None:
        self._refused.add(key)
        self._stats.fill_failures += 1
        self._stats.reason = reason
        self._say(reason)

    def _say(self, reason: str) -> None:
        if reason not in self._stats.said:
            self._stats.said.add(reason)
            warnings.warn(f"{reason}; reading the files instead", CacheWarning, stacklevel=4)


def _out_of_memory(e: Exception) -> bool:
    text = str(e)
    return "memory limit" in text.lower() or "MEMORY_LIMIT_EXCEEDED" in text


def _first_line(e: Exception) -> str:
    return str(e).strip().split("\n", 1)[0][:300]


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size / 1024:,.0f} KB"
