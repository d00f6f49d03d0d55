import { describe, expect, it } from 'vitest';

import { IPage, ITableName, RatApi } from '../src/api';
import { ExplorerModel, mergePage } from '../src/model';
import { serverVersion } from './fixtures';

const TABLES: ITableName[] = Array.from({ length: 250 }, (_, i) => {
  const namespace = i < 200 ? 'bronze' : 'silver';
  const name = `t${String(i).padStart(3, '0')}`;
  return { namespace, name, identifier: `${namespace}.${name}` };
});

function page(items: ITableName[], offset: number, limit: number): IPage<ITableName> {
  return { items: items.slice(offset, offset + limit), total: items.length, offset, limit };
}

class FakeApi {
  marker = 'm1';
  calls: string[] = [];
  async version() {
    return serverVersion();
  }
  async changes() {
    this.calls.push('changes');
    return { marker: this.marker, tables: TABLES.length };
  }
  async namespaces() {
    this.calls.push('namespaces');
    return { items: [{ name: 'bronze' }, { name: 'silver' }] };
  }
  async tables(o: { namespace?: string; filter?: string; offset?: number; limit?: number }) {
    this.calls.push(`tables ${o.namespace ?? ''} ${o.filter ?? ''} ${o.offset}`);
    const rows = TABLES.filter(
      t => (!o.namespace || t.namespace === o.namespace) && (!o.filter || t.identifier.includes(o.filter))
    );
    return page(rows, o.offset ?? 0, o.limit ?? 100);
  }
  async refs() {
    return { items: [{ name: 'main', type: 'branch', snapshot_id: '1', timestamp: null }] };
  }
  async table(namespace: string, name: string) {
    this.calls.push(`table ${namespace}.${name}`);
    return { identifier: `${namespace}.${name}`, row_count: 3 };
  }
  async snapshots() {
    return { items: [], total: 0, offset: 0, limit: 50 };
  }
  async preview(_ns: string, _t: string, at: { snapshotId?: string }, limit: number) {
    return { sql: `at ${at.snapshotId ?? 'main'} limit ${limit}`, limit, columns: [], rows: [], truncated: false };
  }
}

async function started(): Promise<[ExplorerModel, FakeApi]> {
  const fake = new FakeApi();
  const model = new ExplorerModel(fake as unknown as RatApi);
  await model.start();
  return [model, fake];
}

describe('ExplorerModel', () => {
  it('starts with the handshake, then loads only the namespaces', async () => {
    const [model, fake] = await started();
    expect(model.ready).toBe(true);
    expect(model.namespaces).toEqual(['bronze', 'silver']);
    expect(fake.calls).toEqual(['changes', 'namespaces']);
  });

  it('loads a namespace by pages and collapses it', async () => {
    const [model] = await started();
    await model.toggleNamespace('bronze');
    expect(model.listings.get('bronze')).toMatchObject({ total: 200, loading: false });
    expect(model.listings.get('bronze')!.items).toHaveLength(100);
    await model.loadTables('bronze');
    expect(model.listings.get('bronze')!.items).toHaveLength(200);
    await model.toggleNamespace('bronze');
    expect(model.isExpanded('bronze')).toBe(false);
  });

  it('filters into a flat list and back to the tree', async () => {
    const [model] = await started();
    await model.setFilter('t24');
    expect(model.filtered!.items.map(t => t.identifier)).toEqual(
      Array.from({ length: 10 }, (_, i) => `silver.t24${i}`)
    );
    await model.setFilter('');
    expect(model.filtered).toBeNull();
  });

  it('selects a table and previews it, also at an older snapshot', async () => {
    const [model] = await started();
    await model.select({ namespace: 'bronze', name: 't001', ref: null });
    expect(model.detail).toMatchObject({ identifier: 'bronze.t001' });
    await model.runPreview();
    expect(model.tab).toBe('preview');
    expect(model.preview!.sql).toBe('at main limit 100');
    await model.runPreview({ snapshotId: '7' });
    expect(model.preview!.sql).toBe('at 7 limit 100');
  });

  it('refreshes when the change marker moves, and only then', async () => {
    const [model, fake] = await started();
    await model.select({ namespace: 'bronze', name: 't001', ref: null });
    fake.calls = [];
    expect(await model.checkChanges()).toBe(false);
    expect(fake.calls).toEqual(['changes']);
    fake.marker = 'm2';
    expect(await model.checkChanges()).toBe(true);
    expect(fake.calls).toContain('table bronze.t001');
  });

  it('merges pages without duplicates', () => {
    const merged = mergePage(TABLES.slice(0, 3), page(TABLES, 2, 3));
    expect(merged.map(t => t.name)).toEqual(['t000', 't001', 't002', 't003', 't004']);
  });

  it('shows the handshake error when the server extension is missing', async () => {
    const model = new ExplorerModel({
      version: async () => {
        const { ApiError } = await import('../src/api');
        throw new ApiError(404, 'HTTPError', 'Not Found');
      }
    } as unknown as RatApi);
    await model.start();
    expect(model.ready).toBe(false);
    expect(model.handshake.state).toBe('error');
  });
});
