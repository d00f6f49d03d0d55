/**
 * Vega-Lite specs for a result's Chart view, built from the sample a result carries
 * (`application/vnd.ratatouille.result+json`, see `ratatouille.charts.result_sample`).
 *
 * The sample is at most a few thousand rows, so Vega-Lite aggregates and bins it in the browser; when
 * the result was larger, the sample's note says so under the chart's title.
 */

/** The result mime type the kernel sends with every `%%rat_sql` result. */
export const RESULT_MIME = 'application/vnd.ratatouille.result+json';
/** The Vega-Lite version JupyterLab 4 renders natively. */
export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

export const CHART_KINDS = ['bar', 'line', 'area', 'scatter', 'histogram'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];
export type VlType = 'quantitative' | 'temporal' | 'nominal';

export interface ISampleColumn {
  name: string;
  type: string;
  vl: VlType;
}

export interface IResultSample {
  version: number;
  columns: ISampleColumn[];
  rows: Record<string, unknown>[];
  total: number;
  note: string;
  summary?: string;
}

export interface IChartChoice {
  kind: ChartKind;
  x: string;
  /** '' : count rows (bar, line, area); a scatter needs one; a histogram takes none. */
  y: string;
  /** '' : no color. */
  color: string;
}

/** The sample in a mime bundle, or null when it is not one this version reads. */
export function readSample(data: unknown): IResultSample | null {
  if (!data || typeof data !== 'object') {
    return null;
  }
  const s = data as Partial<IResultSample>;
  if (s.version !== 1 || !Array.isArray(s.columns) || !Array.isArray(s.rows) || typeof s.total !== 'number') {
    return null;
  }
  return { version: 1, columns: s.columns, rows: s.rows, total: s.total, note: s.note ?? '', summary: s.summary };
}

function columnsOf(sample: IResultSample, vl: VlType): string[] {
  return sample.columns.filter(c => c.vl === vl).map(c => c.name);
}

/** A first chart: a category (or date) along x and the first other number along y. */
export function defaultChoice(sample: IResultSample): IChartChoice {
  const numbers = columnsOf(sample, 'quantitative');
  const dates = columnsOf(sample, 'temporal');
  const names = columnsOf(sample, 'nominal');
  const first = sample.columns[0]?.name ?? '';
  if (dates.length) {
    return { kind: 'line', x: dates[0], y: numbers[0] ?? '', color: '' };
  }
  if (names.length) {
    return { kind: 'bar', x: names[0], y: numbers[0] ?? '', color: '' };
  }
  if (numbers.length >= 2) {
    return { kind: 'scatter', x: numbers[0], y: numbers[1], color: '' };
  }
  return { kind: numbers.length ? 'histogram' : 'bar', x: first, y: '', color: '' };
}

/** The choice made consistent with its kind: a scatter gets a y, a histogram a numeric x and no y. */
export function fitChoice(sample: IResultSample, choice: IChartChoice): IChartChoice {
  const names = sample.columns.map(c => c.name);
  const numbers = columnsOf(sample, 'quantitative');
  const out = { ...choice };
  if (!names.includes(out.x)) {
    out.x = names[0] ?? '';
  }
  if (out.color && !names.includes(out.color)) {
    out.color = '';
  }
  if (out.kind === 'histogram') {
    out.y = '';
    if (!numbers.includes(out.x)) {
      out.x = numbers[0] ?? out.x;
    }
  } else if (out.kind === 'scatter') {
    if (!names.includes(out.y)) {
      out.y = numbers.find(n => n !== out.x) ?? names.find(n => n !== out.x) ?? out.x;
    }
  } else if (out.y && !numbers.includes(out.y)) {
    out.y = '';
  }
  return out;
}

/** Kinds that need a numeric column the sample lacks are not offered. */
export function kindsFor(sample: IResultSample): ChartKind[] {
  const hasNumber = sample.columns.some(c => c.vl === 'quantitative');
  return CHART_KINDS.filter(k => k !== 'histogram' || hasNumber);
}

/** The Vega-Lite spec of one choice over the sample's rows. */
export function chartSpec(sample: IResultSample, choice: IChartChoice): Record<string, unknown> {
  const { kind, x, y, color } = fitChoice(sample, choice);
  const vl = (name: string): VlType => sample.columns.find(c => c.name === name)?.vl ?? 'nominal';
  const encoding: Record<string, unknown> = {};
  let title: string;
  let mark: Record<string, unknown> = { type: kind, tooltip: true };
  if (kind === 'histogram') {
    encoding.x = { field: x, type: 'quantitative', bin: { maxbins: 30 }, title: x };
    encoding.y = { aggregate: 'count', type: 'quantitative', title: 'count' };
    mark = { type: 'bar', tooltip: true };
    title = `distribution of ${x}`;
  } else if (kind === 'scatter') {
    encoding.x = { field: x, type: vl(x) };
    encoding.y = { field: y, type: vl(y) };
    mark = { type: 'point', filled: true, tooltip: true };
    title = `${y} by ${x}`;
  } else {
    const value = y ? `sum of ${y}` : 'count';
    const xType = vl(x);
    if (kind === 'bar' || xType === 'nominal') {
      encoding.x = { field: x, type: xType === 'quantitative' ? 'ordinal' : 'nominal', ...(kind === 'bar' ? { sort: '-y' } : {}) };
    } else {
      encoding.x = { field: x, type: xType };
    }
    encoding.y = y
      ? { aggregate: 'sum', field: y, type: 'quantitative', title: value }
      : { aggregate: 'count', type: 'quantitative', title: value };
    title = `${value} by ${x}`;
  }
  if (color) {
    encoding.color = { field: color, type: vl(color) };
  }
  const heading: Record<string, unknown> = { text: title, anchor: 'start' };
  if (sample.note) {
    heading.subtitle = sample.note;
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: heading,
    width: 600,
    height: 300,
    mark,
    encoding,
    data: { values: sample.rows }
  };
}
