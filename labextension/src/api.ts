/**
 * The typed client of the ratatouille REST API (`docs/rest-api.yaml`): one method per route.
 *
 * Requests go through JupyterLab's `ServerConnection`, which adds the token or the XSRF header, so
 * writes pass the server's XSRF check. Snapshot ids are 64-bit and travel as decimal strings.
 */
import { ServerConnection } from '@jupyterlab/services';

export interface IVersion {
  name: string;
  version: string;
  api_version: number;
  poll_interval_ms: number;
  preview_max_rows: number;
  max_page_size: number;
  read_only: boolean;
}

export interface IPage<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

export interface INamespace {
  name: string;
}

/** The worst of a table's last check results: an `error` check failed, a `warn` one, all passed; null: none. */
export type CheckStatus = 'fail' | 'warn' | 'pass' | null;

export interface ITableName {
  namespace: string;
  name: string;
  identifier: string;
  /** The table's description (the filter searches it too). */
  description?: string | null;
  check_status?: CheckStatus;
}

/** One column of the table's documentation (`a.b` for a struct's field). */
export interface IColumnDoc {
  name: string;
  type: string;
  doc: string | null;
  pii: boolean;
}

/** The last stored result of one data-quality check. */
export interface ICheckResult {
  /** The shortcut (`not_null(id)`) or the name given. */
  name: string;
  severity: 'error' | 'warn' | string;
  passed: boolean;
  status: 'pass' | 'warn' | 'fail';
  /** Violating rows (all of them). */
  count: number | null;
  checked_at: string | null;
  branch: string | null;
  snapshot_id: string | null;
  sql: string;
  elapsed_s: number | null;
  /** The first violating rows (at most 10). */
  sample: Record<string, Cell>[];
}

export interface IRef {
  name: string;
  type: 'branch' | 'tag';
  snapshot_id: string;
  timestamp: string | null;
}

export interface IField {
  id: number;
  name: string;
  type: string;
  nullable: boolean;
  doc: string | null;
}

export interface ITableDetail {
  namespace: string;
  name: string;
  identifier: string;
  location: string;
  format_version: number;
  uuid: string;
  ref: string | null;
  snapshot_id: string | null;
  snapshot_timestamp: string | null;
  last_updated: string | null;
  schema: { schema_id: number; fields: IField[] };
  row_count: number | null;
  size_bytes: number | null;
  file_count: number | null;
  /** The partition spec as `partition_by` terms (`day(event_ts)`, `bucket(16, user_id)`); empty: unpartitioned. */
  partitioning: string[];
  partition_fields: { name: string; source: string; transform: string }[];
  /** The branch the file counts describe and Compact rewrites: the branch shown, else main. */
  files_branch: string;
  files: number;
  /** Data files under the table's `small_file_bytes` (null when its policy cannot be read). */
  small_files: number | null;
  /** Row-level delete files other engines wrote (reads apply them; Compact removes them). */
  delete_files: number;
  /** The rows those delete files delete. */
  deleted_rows: number;
  file_bytes: number;
  small_file_bytes: number | null;
  target_file_bytes: number | null;
  sort_order: { source: string; transform: string; direction: string; null_order: string }[];
  properties: Record<string, string>;
  snapshot_count: number;
  refs: IRef[];
  description: string | null;
  owner: string | null;
  tags: string[];
  /** The columns marked as personal data. */
  pii: string[];
  columns: IColumnDoc[];
  check_status: CheckStatus;
  /** The last result of each check, failures first. */
  checks: ICheckResult[];
}

export interface ISnapshot {
  snapshot_id: string;
  parent_id: string | null;
  timestamp: string;
  operation: string;
  iceberg_operation: string;
  refs: string[];
  rows_added: number | null;
  rows_deleted: number | null;
  total_rows: number | null;
  files_added: number | null;
  notebook?: string;
  pipeline?: string;
  run_id?: string;
  [key: string]: unknown;
}

export type Cell = string | number | boolean | null | Cell[] | { [key: string]: Cell };

export interface IPreview {
  sql: string;
  limit: number;
  columns: { name: string; type: string }[];
  rows: Cell[][];
  truncated: boolean;
}

export interface IChanges {
  marker: string;
  tables: number;
}

export interface IBranchResult {
  name: string;
  type?: 'branch';
  snapshot_id: string;
}

export interface IFastForwardResult {
  target: string;
  branch: string;
  snapshot_id: string;
  previous_snapshot_id: string;
  changed: boolean;
}

export interface ICompactResult {
  branch: string;
  files_before: number;
  files_after: number;
  rewritten: number;
  added: number;
  bytes_before: number;
  bytes_after: number;
  skipped_old_spec?: number;
  delete_files_removed?: number;
  snapshot_id: string | null;
}

/** Where a table is read: a branch or tag, or a snapshot (time travel); main when both are absent. */
export interface IAt {
  ref?: string | null;
  snapshotId?: string | null;
}

/** An error answered by the server (`{"error", "message"}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | null | undefined>;

/** Encode one path segment (a branch name may hold `/`). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

/** A query string from the defined values of `query` (empty when none). */
export function queryString(query: Query): string {
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export class RatApi {
  constructor(private readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** `GET /ratatouille/version`. */
  version(): Promise<IVersion> {
    return this.request('version');
  }

  /** `GET /ratatouille/changes`. */
  changes(): Promise<IChanges> {
    return this.request('changes');
  }

  /** `GET /ratatouille/namespaces`. */
  namespaces(): Promise<{ items: INamespace[] }> {
    return this.request('namespaces');
  }

  /** `GET /ratatouille/tables`. */
  tables(options: { namespace?: string; filter?: string; offset?: number; limit?: number } = {}): Promise<
    IPage<ITableName>
  > {
    return this.request('tables' + queryString(options));
  }

  /** `GET /ratatouille/tables/{namespace}/{table}`. */
  table(namespace: string, name: string, at: IAt = {}): Promise<ITableDetail> {
    return this.request(tablePath(namespace, name) + queryString({ ref: at.ref, snapshot_id: at.snapshotId }));
  }

  /** `GET /ratatouille/tables/{namespace}/{table}/snapshots`. */
  snapshots(
    namespace: string,
    name: string,
    options: { ref?: string | null; offset?: number; limit?: number } = {}
  ): Promise<IPage<ISnapshot>> {
    return this.request(`${tablePath(namespace, name)}/snapshots` + queryString(options));
  }

  /** `GET /ratatouille/tables/{namespace}/{table}/refs`. */
  refs(namespace: string, name: string): Promise<{ items: IRef[] }> {
    return this.request(`${tablePath(namespace, name)}/refs`);
  }

  /** `GET /ratatouille/tables/{namespace}/{table}/preview`. */
  preview(namespace: string, name: string, at: IAt = {}, limit?: number): Promise<IPreview> {
    const query = queryString({ ref: at.ref, snapshot_id: at.snapshotId, limit });
    return this.request(`${tablePath(namespace, name)}/preview` + query);
  }

  /** `POST /ratatouille/tables/{namespace}/{table}/branches`. */
  createBranch(
    namespace: string,
    name: string,
    branch: string,
    from: { ref?: string; snapshotId?: string } = {}
  ): Promise<IBranchResult> {
    const body: Record<string, string> = { name: branch };
    if (from.snapshotId) {
      body.snapshot_id = from.snapshotId;
    } else if (from.ref) {
      body.from = from.ref;
    }
    return this.request(`${tablePath(namespace, name)}/branches`, { method: 'POST', body: JSON.stringify(body) });
  }

  /** `POST /ratatouille/tables/{namespace}/{table}/branches/{branch}/fast-forward`. */
  fastForward(namespace: string, name: string, branch: string, target = 'main'): Promise<IFastForwardResult> {
    return this.request(`${tablePath(namespace, name)}/branches/${segment(branch)}/fast-forward`, {
      method: 'POST',
      body: JSON.stringify({ target })
    });
  }

  /** `DELETE /ratatouille/tables/{namespace}/{table}/branches/{branch}`. */
  dropBranch(namespace: string, name: string, branch: string): Promise<IBranchResult> {
    return this.request(`${tablePath(namespace, name)}/branches/${segment(branch)}`, { method: 'DELETE' });
  }

  /** `POST /ratatouille/tables/{namespace}/{table}/compact`: bin-pack a branch head's small files. */
  compact(namespace: string, name: string, branch = 'main'): Promise<ICompactResult> {
    return this.request(`${tablePath(namespace, name)}/compact`, { method: 'POST', body: JSON.stringify({ branch }) });
  }

  private request<T>(path: string, init: RequestInit = {}): Promise<T> {
    return requestJson<T>(this.settings, path, init);
  }
}

/**
 * One request to a `/ratatouille/` route: JSON in and out, errors as {@link ApiError}. Every client of the
 * server extension goes through here.
 */
export async function requestJson<T>(
  settings: ServerConnection.ISettings,
  path: string,
  init: RequestInit = {}
): Promise<T> {
  // Joined by hand: a path join could normalize the `%2F` of a branch segment.
  const base = settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`;
  const url = `${base}ratatouille/${path}`;
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(0, 'NetworkError', `cannot reach the Jupyter server: ${String(error)}`);
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const body = (data ?? {}) as { error?: string; message?: string };
    throw new ApiError(response.status, body.error ?? 'HTTPError', body.message ?? response.statusText);
  }
  return data as T;
}

function tablePath(namespace: string, name: string): string {
  return `tables/${segment(namespace)}/${segment(name)}`;
}
