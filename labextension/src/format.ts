/** Pure helpers: handshake messages, reference and SQL cell text, and display formatting. */
import { ApiError, Cell, IAt, ICompactResult, ISnapshot, ITableDetail, IVersion } from './api';
import { API_VERSION, FRONTEND_VERSION } from './version';

export type Handshake =
  | { state: 'pending' }
  | { state: 'ok'; server: IVersion; note: string | null }
  | { state: 'error'; message: string };

/** The outcome of the version handshake, with a plain message when the sidebar cannot work. */
export function handshakeResult(server: IVersion | null, error: unknown = null): Handshake {
  if (error || !server) {
    const status = error instanceof ApiError ? error.status : 0;
    if (status === 404) {
      return {
        state: 'error',
        message:
          'The ratatouille server extension is not running. Install ratatouille in the Python environment ' +
          'of this JupyterLab (pip install "ratatouille[jupyter]"), check that ' +
          '"jupyter server extension list" shows ratatouille_jupyter.server enabled, and restart JupyterLab.'
      };
    }
    if (status === 403) {
      return { state: 'error', message: 'The Jupyter server refused the request: log in again and reload.' };
    }
    const detail = error instanceof Error ? error.message : 'no answer';
    return { state: 'error', message: `Cannot reach the ratatouille server extension (${detail}).` };
  }
  if (server.name !== 'ratatouille' || server.api_version !== API_VERSION) {
    return {
      state: 'error',
      message:
        `The ratatouille server extension (version ${server.version}, API ${server.api_version}) does not ` +
        `match this sidebar (version ${FRONTEND_VERSION}, API ${API_VERSION}). Install the same ratatouille ` +
        'version for JupyterLab and its server, then restart JupyterLab.'
    };
  }
  const note =
    server.version === FRONTEND_VERSION
      ? null
      : `Server extension ${server.version}, sidebar ${FRONTEND_VERSION}: restart JupyterLab after upgrading.`;
  return { state: 'ok', server, note };
}

/** The `@ref` / `@snapshot` suffix of a reference (empty for main). */
export function atSuffix(at: IAt = {}): string {
  if (at.snapshotId) {
    return `@${at.snapshotId}`;
  }
  if (at.ref && at.ref !== 'main') {
    return `@${at.ref}`;
  }
  return '';
}

/** The reference a notebook writes: `{ns.t}`, `{ns.t@dev}`, `{ns.t@<snapshot id>}`. */
export function referenceText(identifier: string, at: IAt = {}): string {
  return `{${identifier}${atSuffix(at)}}`;
}

/** The source of the `%%rat_sql` cell the sidebar inserts. */
export function sqlCellText(identifier: string, at: IAt = {}, limit = 100): string {
  return `%%rat_sql\nSELECT *\nFROM ${referenceText(identifier, at)}\nLIMIT ${limit}`;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** `1536` → `1.5 KB`; null → `–`. */
export function formatBytes(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `1234567` → `1,234,567`; null → `–`. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  return value.toLocaleString('en-US');
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` UTC (stable whatever the browser's locale). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) {
    return '–';
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/** Who wrote a snapshot: the pipeline run, notebook or maintenance recorded in its provenance. */
export function provenance(snapshot: ISnapshot): string {
  const parts: string[] = [];
  if (snapshot.pipeline) {
    parts.push(`pipeline ${snapshot.pipeline}${snapshot.run_id ? ` (run ${snapshot.run_id})` : ''}`);
  }
  if (snapshot.notebook) {
    parts.push(String(snapshot.notebook));
  }
  if (snapshot.maintenance) {
    // `sidebar` when Compact was clicked, `policy` for the nightly maintenance.
    parts.push(`${String(snapshot.maintenance)} maintenance${snapshot.user ? ` by ${String(snapshot.user)}` : ''}`);
  }
  return parts.join(' · ');
}

/** `+3 / −1` rows of a snapshot. */
export function rowDelta(snapshot: ISnapshot): string {
  const added = snapshot.rows_added ? `+${formatCount(snapshot.rows_added)}` : '';
  const deleted = snapshot.rows_deleted ? `−${formatCount(snapshot.rows_deleted)}` : '';
  return [added, deleted].filter(Boolean).join(' / ') || '0';
}

/** A preview cell as text. */
export function cellText(value: Cell): string {
  if (value === null) {
    return 'null';
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** True for cells shown right-aligned (numbers). */
export function isNumeric(type: string): boolean {
  return /^(u?int|float|double|decimal|halffloat)/i.test(type);
}

/** Case-insensitive test of `filter` against `ns.table` (what the server's filter does). */
export function matchesFilter(identifier: string, filter: string): boolean {
  const needle = filter.trim().toLowerCase();
  return !needle || identifier.toLowerCase().includes(needle);
}

/** `Partitioned by day(ts), region` or `Unpartitioned`. */
export function partitionText(terms: string[]): string {
  return terms.length ? `Partitioned by ${terms.join(', ')}` : 'Unpartitioned';
}

function plural(count: number, word: string): string {
  return `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * `12 files (9 small)`, then ` · 2 delete files` when other engines left row-level deletes, with
 * ` on main` when the counts are of another branch than the one shown.
 */
export function filesText(detail: ITableDetail): string {
  const small = detail.small_files === null ? '' : ` (${formatCount(detail.small_files)} small)`;
  const deletes = (detail.delete_files ?? 0) > 0 ? ` · ${plural(detail.delete_files, 'delete file')}` : '';
  const other = (detail.ref ?? null) !== detail.files_branch ? ` on ${detail.files_branch}` : '';
  return `${plural(detail.files, 'file')}${small}${deletes}${other}`;
}

/** Compaction is worth offering: two small files or any delete file, a writable explorer, none running. */
export function canCompact(detail: ITableDetail | null, readOnly: boolean, busy: boolean): boolean {
  return !!detail && !readOnly && !busy && ((detail.small_files ?? 0) >= 2 || (detail.delete_files ?? 0) > 0);
}

/** What a compaction did: `main: 12 → 3 files (1.2 MB → 1.1 MB)`, or that there was nothing to merge. */
export function compactOutcome(result: ICompactResult): string {
  const removed = result.delete_files_removed ?? 0;
  if (removed > 0) {
    return (
      `Compacted ${result.branch}: ${formatCount(result.files_before)} → ${plural(result.files_after, 'file')}, ` +
      `${plural(removed, 'delete file')} applied and removed ` +
      `(${formatBytes(result.bytes_before)} → ${formatBytes(result.bytes_after)}).`
    );
  }
  if (result.files_after === result.files_before) {
    return (
      `Nothing to compact on ${result.branch}: no partition has small files worth merging ` +
      `(${plural(result.files_before, 'file')}).`
    );
  }
  return (
    `Compacted ${result.branch}: ${formatCount(result.files_before)} → ${plural(result.files_after, 'file')} ` +
    `(${formatBytes(result.bytes_before)} → ${formatBytes(result.bytes_after)}).`
  );
}
