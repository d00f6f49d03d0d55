import { describe, expect, it } from 'vitest';

import { ApiError, ISnapshot, IVersion } from '../src/api';
import {
  cellText,
  formatBytes,
  formatCount,
  formatTime,
  handshakeResult,
  isNumeric,
  matchesFilter,
  provenance,
  referenceText,
  rowDelta,
  sqlCellText
} from '../src/format';
import { API_VERSION, FRONTEND_VERSION } from '../src/version';

const server: IVersion = {
  name: 'ratatouille',
  version: FRONTEND_VERSION,
  api_version: API_VERSION,
  poll_interval_ms: 5000,
  preview_max_rows: 500,
  max_page_size: 1000,
  read_only: false
};

const snapshot = (extra: Partial<ISnapshot> = {}): ISnapshot => ({
  snapshot_id: '1',
  parent_id: null,
  timestamp: '2026-01-02T03:04:05+00:00',
  operation: 'append',
  iceberg_operation: 'append',
  refs: [],
  rows_added: 3,
  rows_deleted: null,
  total_rows: 3,
  files_added: 1,
  ...extra
});

describe('handshake', () => {
  it('accepts the same API version', () => {
    expect(handshakeResult(server)).toEqual({ state: 'ok', server, note: null });
  });

  it('notes a different package version with the same API', () => {
    const result = handshakeResult({ ...server, version: '9.9.9' });
    expect(result.state).toBe('ok');
    expect(result.state === 'ok' && result.note).toContain('9.9.9');
  });

  it('refuses another API version with a plain message', () => {
    const result = handshakeResult({ ...server, api_version: API_VERSION + 1 });
    expect(result.state).toBe('error');
    expect(result.state === 'error' && result.message).toContain('does not match this sidebar');
  });

  it('explains a missing server extension (404)', () => {
    const result = handshakeResult(null, new ApiError(404, 'HTTPError', 'Not Found'));
    expect(result.state === 'error' && result.message).toContain('server extension is not running');
    expect(result.state === 'error' && result.message).toContain('jupyter server extension list');
  });

  it('explains a refused or failed request', () => {
    expect(handshakeResult(null, new ApiError(403, 'HTTPError', 'Forbidden'))).toMatchObject({ state: 'error' });
    const down = handshakeResult(null, new ApiError(0, 'NetworkError', 'boom'));
    expect(down.state === 'error' && down.message).toContain('boom');
  });
});

describe('references and cells', () => {
  it('writes references for main, a branch and a snapshot', () => {
    expect(referenceText('bronze.sales')).toBe('{bronze.sales}');
    expect(referenceText('bronze.sales', { ref: 'main' })).toBe('{bronze.sales}');
    expect(referenceText('bronze.sales', { ref: 'dev' })).toBe('{bronze.sales@dev}');
    expect(referenceText('bronze.sales', { ref: 'dev', snapshotId: '42' })).toBe('{bronze.sales@42}');
  });

  it('writes a %%rat_sql cell', () => {
    expect(sqlCellText('bronze.sales', { ref: 'dev' }, 10)).toBe(
      '%%rat_sql\nSELECT *\nFROM {bronze.sales@dev}\nLIMIT 10'
    );
  });
});

describe('formatting', () => {
  it('formats sizes, counts and times', () => {
    expect(formatBytes(null)).toBe('–');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(undefined)).toBe('–');
    expect(formatTime('2026-01-02T03:04:05.123+00:00')).toBe('2026-01-02 03:04:05');
    expect(formatTime('not a time')).toBe('not a time');
  });

  it('tells who wrote a snapshot and what it changed', () => {
    expect(provenance(snapshot({ notebook: 'ingest.ipynb' }))).toBe('ingest.ipynb');
    expect(provenance(snapshot({ pipeline: 'daily', run_id: 'r1' }))).toBe('pipeline daily (run r1)');
    expect(provenance(snapshot())).toBe('');
    expect(provenance(snapshot({ maintenance: 'sidebar', user: 'ada' }))).toBe('sidebar maintenance by ada');
    expect(provenance(snapshot({ maintenance: 'policy' }))).toBe('policy maintenance');
    expect(rowDelta(snapshot({ rows_added: 3, rows_deleted: 1 }))).toBe('+3 / −1');
    expect(rowDelta(snapshot({ rows_added: 0 }))).toBe('0');
  });

  it('renders cells and recognizes numeric columns', () => {
    expect(cellText(null)).toBe('null');
    expect(cellText({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(cellText(1.5)).toBe('1.5');
    expect(isNumeric('int64')).toBe(true);
    expect(isNumeric('double')).toBe(true);
    expect(isNumeric('string')).toBe(false);
  });

  it('filters like the server', () => {
    expect(matchesFilter('bronze.Sales', 'SAL')).toBe(true);
    expect(matchesFilter('bronze.sales', '  ')).toBe(true);
    expect(matchesFilter('bronze.sales', 'silver')).toBe(false);
  });
});
