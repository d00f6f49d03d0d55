/** Shared test fixtures: the handshake a server of this sidebar's version answers. */
import type { ITableDetail, IVersion } from '../src/api';
import { API_VERSION, FRONTEND_VERSION } from '../src/version';

export function serverVersion(extra: Partial<IVersion> = {}): IVersion {
  return {
    name: 'ratatouille',
    version: FRONTEND_VERSION,
    api_version: API_VERSION,
    poll_interval_ms: 0,
    preview_max_rows: 500,
    max_page_size: 1000,
    read_only: false,
    ...extra
  };
}

const MIB = 1024 * 1024;

/** A table detail, as the server answers it, with `extra` fields replaced. */
export function tableDetail(extra: Partial<ITableDetail> = {}): ITableDetail {
  return {
    namespace: 'bronze',
    name: 'events',
    identifier: 'bronze.events',
    location: '/lake/bronze/events',
    format_version: 2,
    uuid: 'u1',
    ref: 'main',
    snapshot_id: '11',
    snapshot_timestamp: null,
    last_updated: null,
    schema: { schema_id: 0, fields: [] },
    row_count: 12,
    size_bytes: 6144,
    file_count: 6,
    partitioning: ['day(event_ts)', 'bucket(16, user_id)'],
    partition_fields: [],
    files_branch: 'main',
    files: 6,
    small_files: 6,
    delete_files: 0,
    deleted_rows: 0,
    file_bytes: 6144,
    small_file_bytes: 48 * MIB,
    target_file_bytes: 64 * MIB,
    sort_order: [],
    properties: {},
    snapshot_count: 3,
    refs: [],
    description: null,
    owner: null,
    tags: [],
    pii: [],
    columns: [],
    check_status: null,
    checks: [],
    ...extra
  };
}
