import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { ApiError, ICompactResult, ITableDetail, RatApi } from '../src/api';
import { TableFiles } from '../src/components/TableFiles';
import { canCompact, compactOutcome, filesText, partitionText } from '../src/format';
import { ExplorerModel, ICompaction } from '../src/model';
import { serverVersion, tableDetail } from './fixtures';

function detail(extra: Partial<ITableDetail> = {}): ITableDetail {
  return tableDetail(extra);
}

const REPORT: ICompactResult = {
  branch: 'main',
  files_before: 6,
  files_after: 2,
  rewritten: 6,
  added: 2,
  bytes_before: 6144,
  bytes_after: 3072,
  snapshot_id: '12'
};

function render(props: Partial<React.ComponentProps<typeof TableFiles>> = {}): string {
  return renderToStaticMarkup(
    <TableFiles detail={detail()} compaction={null} canCompact={true} readOnly={false} onCompact={() => {}} {...props} />
  );
}

describe('table files and compaction', () => {
  it('words the partitioning, the file counts and the outcome', () => {
    expect(partitionText(['day(event_ts)', 'bucket(16, user_id)'])).toBe('Partitioned by day(event_ts), bucket(16, user_id)');
    expect(partitionText([])).toBe('Unpartitioned');
    expect(filesText(detail())).toBe('6 files (6 small)');
    expect(filesText(detail({ files: 1, small_files: 0 }))).toBe('1 file (0 small)');
    expect(filesText(detail({ files: 1234, small_files: null }))).toBe('1,234 files');
    expect(filesText(detail({ ref: 'v1' }))).toBe('6 files (6 small) on main');
    expect(filesText(detail({ ref: 'dev', files_branch: 'dev' }))).toBe('6 files (6 small)');
    expect(compactOutcome(REPORT)).toBe('Compacted main: 6 → 2 files (6.0 KB → 3.0 KB).');
    expect(compactOutcome({ ...REPORT, files_after: 6 })).toContain('Nothing to compact on main');
    expect(filesText(detail({ delete_files: 2, deleted_rows: 40 }))).toBe('6 files (6 small) · 2 delete files');
    expect(filesText(detail({ files: 1, small_files: 0, delete_files: 1 }))).toBe('1 file (0 small) · 1 delete file');
    expect(compactOutcome({ ...REPORT, files_after: 6, delete_files_removed: 2 })).toBe(
      'Compacted main: 6 → 6 files, 2 delete files applied and removed (6.0 KB → 3.0 KB).'
    );
  });

  it('offers Compact for delete files even without small files', () => {
    expect(canCompact(detail({ small_files: 0, delete_files: 1 }), false, false)).toBe(true);
    expect(canCompact(detail({ small_files: 0, delete_files: 1 }), true, false)).toBe(false);
    const html = render({ detail: detail({ small_files: 0, delete_files: 3, deleted_rows: 1200 }) });
    expect(html).toContain('6 files (0 small) · 3 delete files');
    expect(html).toContain('the 1,200 deleted rows stay deleted');
  });

  it('offers Compact from two small files, never read-only or while one runs', () => {
    expect(canCompact(detail(), false, false)).toBe(true);
    expect(canCompact(detail({ small_files: 2 }), false, false)).toBe(true);
    expect(canCompact(detail({ small_files: 1 }), false, false)).toBe(false);
    expect(canCompact(detail({ small_files: null }), false, false)).toBe(false);
    expect(canCompact(detail(), true, false)).toBe(false);
    expect(canCompact(detail(), false, true)).toBe(false);
    expect(canCompact(null, false, false)).toBe(false);
  });

  it('renders the partitioning, the counts and an enabled Compact button', () => {
    const html = render();
    expect(html).toContain('Partitioned by day(event_ts), bucket(16, user_id)');
    expect(html).toContain('data-testid="rat-file-counts"');
    expect(html).toContain('6 files (6 small)');
    expect(html).toContain('small: under 48 MB');
    expect(html).toMatch(/<button class="jp-RatButton" aria-busy="false" title="Rewrite the small files of main into files of about 64 MB[^"]*">Compact<\/button>/);
    const off = render({ detail: detail({ partitioning: [], small_files: 1 }), canCompact: false });
    expect(off).toContain('Unpartitioned');
    expect(off).toMatch(/<button class="jp-RatButton" disabled="" aria-busy="false" title="Nothing to compact[^"]*">Compact</);
    expect(render({ canCompact: false, readOnly: true })).toContain('read-only');
  });

  it('shows the busy state, then the outcome or the error', () => {
    const running: ICompaction = { identifier: 'bronze.events', branch: 'main', busy: true, result: null, error: null };
    const busy = render({ compaction: running, canCompact: false });
    expect(busy).toContain('aria-busy="true"');
    expect(busy).toContain('Compacting…');
    expect(busy).toContain('role="status"');
    const done = render({ compaction: { ...running, busy: false, result: REPORT } });
    expect(done).toContain('Compacted main: 6 → 2 files');
    expect(done).not.toContain('Compacting…');
    const failed = render({ compaction: { ...running, busy: false, error: 'the table changed meanwhile' } });
    expect(failed).toContain('role="alert"');
    expect(failed).toContain('Compaction failed: the table changed meanwhile');
  });
});

class FakeApi {
  files = 6;
  calls: string[] = [];
  fail: ApiError | null = null;
  release: (() => void) | null = null;
  async version() {
    return serverVersion();
  }
  async changes() {
    return { marker: `m${this.files}`, tables: 1 };
  }
  async namespaces() {
    return { items: [{ name: 'bronze' }] };
  }
  async table(_ns: string, _t: string, at: { ref?: string | null }) {
    this.calls.push(`table ${at.ref ?? 'main'}`);
    return detail({ files: this.files, small_files: this.files, ref: at.ref ?? 'main', files_branch: at.ref ?? 'main' });
  }
  async snapshots() {
    return { items: [], total: 0, offset: 0, limit: 50 };
  }
  async compact(_ns: string, _t: string, branch: string): Promise<ICompactResult> {
    this.calls.push(`compact ${branch}`);
    await new Promise<void>(resolve => (this.release = resolve));
    if (this.fail) {
      throw this.fail;
    }
    const before = this.files;
    this.files = 2;
    return { ...REPORT, branch, files_before: before, files_after: 2 };
  }
}

async function selected(ref: string | null = null): Promise<[ExplorerModel, FakeApi]> {
  const fake = new FakeApi();
  const model = new ExplorerModel(fake as unknown as RatApi);
  await model.start();
  await model.select({ namespace: 'bronze', name: 'events', ref });
  return [model, fake];
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

describe('ExplorerModel.compact', () => {
  it('is busy while it runs, then refreshes the detail and keeps the outcome', async () => {
    const [model, fake] = await selected('dev');
    const running = model.compact();
    await settle();
    expect(model.tableCompaction).toMatchObject({ busy: true, branch: 'dev' });
    expect(await model.compact()).toBeNull(); // one at a time
    fake.release!();
    const report = await running;
    expect(report).toMatchObject({ files_before: 6, files_after: 2 });
    expect(fake.calls.filter(c => c.startsWith('compact'))).toEqual(['compact dev']);
    expect(model.detail!.files).toBe(2);
    expect(model.tableCompaction).toMatchObject({ busy: false, result: { files_after: 2 }, error: null });

    await model.select({ namespace: 'bronze', name: 'other', ref: null });
    expect(model.compaction).toBeNull();
  });

  it('keeps the error and the detail when it fails', async () => {
    const [model, fake] = await selected();
    fake.fail = new ApiError(409, 'Conflict', 'the table changed meanwhile, refresh and try again');
    const running = model.compact();
    await settle();
    fake.release!();
    expect(await running).toBeNull();
    expect(model.tableCompaction).toMatchObject({ busy: false, result: null, error: expect.stringContaining('changed meanwhile') });
    expect(model.detail!.files).toBe(6);
  });
});
