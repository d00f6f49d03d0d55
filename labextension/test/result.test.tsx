import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { chartSpec, defaultChoice, fitChoice, IResultSample, kindsFor, readSample } from '../src/result/chartSpec';
import { ResultToolbar } from '../src/result/ResultToolbar';

const SAMPLE: IResultSample = {
  version: 1,
  columns: [
    { name: 'region', type: 'string', vl: 'nominal' },
    { name: 'revenue', type: 'double', vl: 'quantitative' },
    { name: 'qty', type: 'int64', vl: 'quantitative' }
  ],
  rows: [
    { region: 'north', revenue: 10, qty: 1 },
    { region: 'south', revenue: 2.5, qty: 3 }
  ],
  total: 2,
  note: ''
};

describe('result charts', () => {
  it('reads only samples it knows', () => {
    expect(readSample(SAMPLE)).toEqual({ ...SAMPLE, summary: undefined });
    expect(readSample({ ...SAMPLE, version: 2 })).toBeNull();
    expect(readSample('x')).toBeNull();
  });

  it('starts with a bar of the first number by the first category', () => {
    expect(defaultChoice(SAMPLE)).toEqual({ kind: 'bar', x: 'region', y: 'revenue', color: '' });
    const dated = { ...SAMPLE, columns: [...SAMPLE.columns, { name: 'day', type: 'date32', vl: 'temporal' as const }] };
    expect(defaultChoice(dated).kind).toBe('line');
  });

  it('sums y per x in a bar, with the sample note under the title', () => {
    const spec = chartSpec({ ...SAMPLE, note: 'charted a random sample of 5,000 of 9,000 rows' }, defaultChoice(SAMPLE));
    expect(spec.mark).toEqual({ type: 'bar', tooltip: true });
    expect(spec.encoding).toEqual({
      x: { field: 'region', type: 'nominal', sort: '-y' },
      y: { aggregate: 'sum', field: 'revenue', type: 'quantitative', title: 'sum of revenue' }
    });
    expect(spec.title).toEqual({
      text: 'sum of revenue by region',
      anchor: 'start',
      subtitle: 'charted a random sample of 5,000 of 9,000 rows'
    });
    expect((spec.data as { values: unknown[] }).values).toHaveLength(2);
  });

  it('fits a choice to its kind', () => {
    expect(fitChoice(SAMPLE, { kind: 'histogram', x: 'region', y: 'qty', color: '' })).toEqual({
      kind: 'histogram',
      x: 'revenue',
      y: '',
      color: ''
    });
    expect(fitChoice(SAMPLE, { kind: 'scatter', x: 'revenue', y: '', color: 'nope' }).y).toBe('qty');
    expect(fitChoice(SAMPLE, { kind: 'line', x: 'region', y: 'region', color: '' }).y).toBe('');
    const hist = chartSpec(SAMPLE, { kind: 'histogram', x: 'qty', y: '', color: 'region' });
    expect((hist.encoding as Record<string, unknown>).x).toEqual({
      field: 'qty',
      type: 'quantitative',
      bin: { maxbins: 30 },
      title: 'qty'
    });
    const counted = chartSpec(SAMPLE, { kind: 'area', x: 'qty', y: '', color: '' });
    expect((counted.encoding as Record<string, unknown>).y).toEqual({ aggregate: 'count', type: 'quantitative', title: 'count' });
    expect(kindsFor({ ...SAMPLE, columns: [SAMPLE.columns[0]] })).not.toContain('histogram');
  });

  it('renders the toggle and, in chart mode, the pickers', () => {
    const noop = () => undefined;
    const table = renderToStaticMarkup(
      <ResultToolbar sample={SAMPLE} mode="table" choice={defaultChoice(SAMPLE)} onMode={noop} onChoice={noop} />
    );
    expect(table).toContain('aria-pressed="true">Table</button>');
    expect(table).not.toContain('<select');
    const chart = renderToStaticMarkup(
      <ResultToolbar sample={SAMPLE} mode="chart" choice={defaultChoice(SAMPLE)} onMode={noop} onChoice={noop} />
    );
    expect(chart).toContain('aria-pressed="true">Chart</button>');
    expect(chart).toContain('aria-label="Kind"');
    expect(chart).toContain('<option value="">(count rows)</option>');
  });
});
