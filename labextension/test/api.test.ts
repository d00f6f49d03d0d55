import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { ApiError, queryString, RatApi } from '../src/api';

interface ICall {
  url: string;
  method: string;
  body: string | null;
}

function fakeServer(status = 200, body: unknown = {}) {
  const calls: ICall[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    // ServerConnection appends a cache-busting timestamp to every URL: drop it.
    const url = request.url.replace(/[?&]\d{10,}$/, '');
    calls.push({ url, method: request.method, body: request.body ? await request.text() : null });
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/lab-base/',
    wsUrl: 'ws://localhost:8888/lab-base/',
    fetch: fetchFn as typeof fetch,
    Request: Request,
    Headers: Headers
  });
  return { api: new RatApi(settings), calls };
}

describe('RatApi', () => {
  it('builds one URL per route', async () => {
    const { api, calls } = fakeServer();
    await api.version();
    await api.changes();
    await api.namespaces();
    await api.tables({ namespace: 'bronze', filter: 'sa les', offset: 100, limit: 50 });
    await api.table('bronze', 'sales', { ref: 'dev' });
    await api.snapshots('bronze', 'sales', { ref: null, limit: 50 });
    await api.refs('bronze', 'sales');
    await api.preview('bronze', 'sales', { snapshotId: '123456789012345678' }, 20);
    const base = 'http://localhost:8888/lab-base/ratatouille/';
    expect(calls.map(c => c.url.replace(base, ''))).toEqual([
      'version',
      'changes',
      'namespaces',
      'tables?namespace=bronze&filter=sa%20les&offset=100&limit=50',
      'tables/bronze/sales?ref=dev',
      'tables/bronze/sales/snapshots?limit=50',
      'tables/bronze/sales/refs',
      'tables/bronze/sales/preview?snapshot_id=123456789012345678&limit=20'
    ]);
    expect(calls.every(c => c.method === 'GET')).toBe(true);
  });

  it('sends branch actions with encoded names and JSON bodies', async () => {
    const { api, calls } = fakeServer();
    await api.createBranch('bronze', 'sales', 'feature/x', { ref: 'dev' });
    await api.createBranch('bronze', 'sales', 'old', { snapshotId: '42' });
    await api.fastForward('bronze', 'sales', 'feature/x');
    await api.dropBranch('bronze', 'sales', 'feature/x');
    const base = 'http://localhost:8888/lab-base/ratatouille/tables/bronze/sales/branches';
    expect(calls.map(c => [c.method, c.url.replace(base, ''), c.body])).toEqual([
      ['POST', '', '{"name":"feature/x","from":"dev"}'],
      ['POST', '', '{"name":"old","snapshot_id":"42"}'],
      ['POST', '/feature%2Fx/fast-forward', '{"target":"main"}'],
      ['DELETE', '/feature%2Fx', null]
    ]);
  });

  it('sends compact with the branch in a JSON body', async () => {
    const { api, calls } = fakeServer(200, { branch: 'feature/x', files_before: 9, files_after: 2 });
    const report = await api.compact('bronze', 'sales', 'feature/x');
    await api.compact('bronze', 'sales');
    expect(report.files_after).toBe(2);
    const base = 'http://localhost:8888/lab-base/ratatouille/tables/bronze/sales/compact';
    expect(calls.map(c => [c.method, c.url, c.body])).toEqual([
      ['POST', base, '{"branch":"feature/x"}'],
      ['POST', base, '{"branch":"main"}']
    ]);
  });

  it('turns error answers into ApiError', async () => {
    const { api } = fakeServer(404, { error: 'NotFound', message: 'table bronze.nope does not exist' });
    const error = await api.table('bronze', 'nope').catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, kind: 'NotFound', message: 'table bronze.nope does not exist' });
  });

  it('skips empty query values', () => {
    expect(queryString({ a: undefined, b: null, c: '', d: 0 })).toBe('?d=0');
    expect(queryString({})).toBe('');
  });
});
