import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { Banner } from '../src/components/Banner';
import { DataGrid } from '../src/components/DataGrid';

describe('components', () => {
  it('renders preview rows in an accessible grid', () => {
    const html = renderToStaticMarkup(
      <DataGrid
        preview={{
          sql: 'SELECT * FROM {bronze.sales} LIMIT 2',
          limit: 2,
          truncated: true,
          columns: [
            { name: 'id', type: 'int64' },
            { name: 'region', type: 'string' }
          ],
          rows: [
            [1, 'north'],
            [2, null]
          ]
        }}
      />
    );
    expect(html).toContain('<th scope="col" title="int64">id');
    expect(html).toContain('class="jp-RatGrid-num">1</td>');
    expect(html).toContain('class="jp-RatGrid-null ">null</td>');
    expect(html).toContain('aria-label="Preview rows"');
  });

  it('shows the handshake error as an alert', () => {
    const html = renderToStaticMarkup(<Banner handshake={{ state: 'error', message: 'not running' }} />);
    expect(html).toContain('role="alert"');
    expect(html).toContain('not running');
    expect(renderToStaticMarkup(<Banner handshake={{ state: 'pending' }} />)).toContain('Connecting');
  });
});
