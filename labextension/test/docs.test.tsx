import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

import { ICheckResult } from '../src/api';
import { Checks, TableDocs } from '../src/components/TableDocs';
import {
  checkCounts,
  checksSummary,
  columnDoc,
  filterMatch,
  sampleColumns,
  snippet,
  statusTitle,
  violationText
} from '../src/docs';
import { tableDetail } from './fixtures';

// JupyterLab's icons need a DOM: stand-ins render a plain span.
vi.mock('@jupyterlab/ui-components', () => {
  const icon = (name: string) => ({ react: () => React.createElement('span', { className: `icon-${name}` }) });
  return {
    checkIcon: icon('check'),
    closeIcon: icon('close'),
    errorIcon: icon('error'),
    tagIcon: icon('tag'),
    userIcon: icon('user')
  };
});

const SALES = { namespace: 'bronze', name: 'sales', identifier: 'bronze.sales', description: 'Orders from the Shop' };

function check(extra: Partial<ICheckResult> = {}): ICheckResult {
  return {
    name: 'not_null(id)',
    severity: 'error',
    passed: true,
    status: 'pass',
    count: 0,
    checked_at: '2026-03-01T08:30:00+00:00',
    branch: 'main',
    snapshot_id: '42',
    sql: 'SELECT * FROM {bronze.sales} WHERE `id` IS NULL',
    elapsed_s: 0.01,
    sample: [],
    ...extra
  };
}

const FAILED = check({
  name: 'not_null(region)',
  passed: false,
  status: 'fail',
  count: 1,
  sample: [{ id: 3, region: null }]
});

describe('filter matching', () => {
  it('matches the name first, then the description, case-insensitively', () => {
    expect(filterMatch(SALES, 'SAL')).toBe('name');
    expect(filterMatch(SALES, 'bronze.s')).toBe('name');
    expect(filterMatch(SALES, '  shop ')).toBe('description');
    expect(filterMatch(SALES, 'crm')).toBeNull();
    expect(filterMatch({ ...SALES, description: null }, 'shop')).toBeNull();
    expect(filterMatch({ ...SALES, description: undefined }, '')).toBe('name');
  });

  it('cuts a snippet around the match', () => {
    expect(snippet('Orders from the Shop', 'shop')).toEqual(['Orders from the ', 'Shop', '']);
    const long = `${'a'.repeat(100)}needle${'b'.repeat(100)}`;
    const [before, match, after] = snippet(long, 'NEEDLE', 26);
    expect(match).toBe('needle');
    expect(before.startsWith('…')).toBe(true);
    expect(after.endsWith('…')).toBe(true);
    expect(before.length + match.length + after.length).toBe(28);
    expect(snippet('x'.repeat(80), 'zzz', 10)).toEqual(['xxxxxxxxx…', '', '']);
  });
});

describe('documentation and checks helpers', () => {
  it('finds column docs and PII marks, nested fields included', () => {
    const detail = tableDetail({
      pii: ['customer'],
      columns: [
        { name: 'id', type: 'long', doc: 'Order id', pii: false },
        { name: 'customer', type: 'struct', doc: null, pii: true }
      ]
    });
    expect(columnDoc(detail, 'id')).toEqual({ name: 'id', type: 'long', doc: 'Order id', pii: false });
    expect(columnDoc(detail, 'customer').pii).toBe(true);
    expect(columnDoc(detail, 'customer.email').pii).toBe(true);
    expect(columnDoc(detail, 'customers').pii).toBe(false);
    expect(columnDoc(detail, 'old_column', 'from the old schema').doc).toBe('from the old schema');
  });

  it('summarizes check results', () => {
    const warned = check({ name: 'w', severity: 'warn', passed: false, status: 'warn', count: 1234 });
    expect(checkCounts([FAILED, warned, check()])).toEqual({ fail: 1, warn: 1, pass: 1 });
    expect(checksSummary([FAILED, warned, warned, check()])).toBe('1 failed · 2 warnings · 1 passed');
    expect(checksSummary([])).toBe('');
    expect(violationText(FAILED)).toBe('1 violating row');
    expect(violationText(warned)).toBe('1,234 violating rows');
    expect(violationText(check())).toBe('passed');
    expect(statusTitle('fail')).toContain('error check failed');
    expect(statusTitle(null)).toBe('');
    expect(sampleColumns([{ a: 1 }, { b: 2, a: 3 }])).toEqual(['a', 'b']);
  });
});

describe('documentation components', () => {
  it('shows description, owner, tag chips and the checks summary', () => {
    const html = renderToStaticMarkup(
      <TableDocs
        detail={tableDetail({
          description: 'Orders',
          owner: 'sales@example.com',
          tags: ['finance', 'daily'],
          check_status: 'fail',
          checks: [FAILED, check()]
        })}
        onChecks={() => {}}
      />
    );
    expect(html).toContain('Orders');
    expect(html).toContain('sales@example.com');
    expect(html).toContain('<span class="jp-RatChip">finance</span><span class="jp-RatChip">daily</span>');
    expect(html.replace(/<!-- -->/g, '')).toContain('Checks: 1 failed · 1 passed');
    expect(html).toContain('jp-RatCheckStatus jp-mod-fail');
  });

  it('shows nothing for an undocumented table without checks', () => {
    expect(renderToStaticMarkup(<TableDocs detail={tableDetail()} onChecks={() => {}} />)).toBe('');
  });

  it('lists checks with their SQL and sample rows', () => {
    const html = renderToStaticMarkup(<Checks detail={tableDetail({ checks: [FAILED, check()] })} />);
    expect(html).toContain('not_null(region)');
    expect(html).toContain('1 violating row');
    expect(html).toContain('2026-03-01 08:30:00');
    expect(html).toContain('WHERE `id` IS NULL');
    expect(html).toContain('aria-label="Sample of the violating rows"');
    expect(html).toContain('jp-RatGrid-null">null</td>');
    expect(renderToStaticMarkup(<Checks detail={tableDetail()} />)).toContain('No check has run');
  });
});
