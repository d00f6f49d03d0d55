import * as React from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

import { IPipeline, IPipelineListing } from '../src/pipelines/api';
import { formFromSettings, inPipelinesDir, settingsFromForm } from '../src/pipelines/form';
import { cronProblem, DEFAULTS } from '../src/pipelines/metadata';
import { PipelinesView, statusLabel } from '../src/pipelines/PipelinesView';

const pipeline = (extra: Partial<IPipeline> = {}): IPipeline => ({
  name: 'ingest_sales',
  path: '/lake/pipelines/ingest_sales.ipynb',
  schedule: '0 6 * * *',
  timezone: 'UTC',
  parameters: {},
  parameter_defaults: { source: 'a.csv' },
  retries: 0,
  timeout: null,
  writes: ['bronze.sales'],
  reads: [],
  warnings: [],
  last_run: null,
  dagster_url: null,
  ...extra
});

describe('pipelines', () => {
  it('checks cron expressions like the server', () => {
    expect(cronProblem('0 6 * * *')).toBeNull();
    expect(cronProblem('@daily')).toBeNull();
    expect(cronProblem('')).toBeNull();
    expect(cronProblem('0 6 * *')).toContain('5 fields');
    expect(cronProblem('0 6 ? * *')).toContain('"?"');
  });

  it('turns the schedule form into metadata, or names the problem', () => {
    const form = formFromSettings({ ...DEFAULTS, schedule: '0 6 * * *', retries: 2 });
    expect(form.retries).toBe('2');
    const settings = settingsFromForm({ ...form, parameters: '{"day": "2024-06-01"}', timeout: '90' });
    const parameters = { day: '2024-06-01' };
    expect(settings).toEqual({ ...DEFAULTS, schedule: '0 6 * * *', retries: 2, timeout: 90, parameters });
    expect(settingsFromForm({ ...form, parameters: '[1]' })).toContain('JSON object');
    expect(settingsFromForm({ ...form, retries: '1.5' })).toContain('Retries');
    expect(settingsFromForm({ ...form, schedule: '' })).toMatchObject({ schedule: null });
  });

  it('tells whether a notebook is in the pipelines folder', () => {
    expect(inPipelinesDir('pipelines/a.ipynb', 'pipelines')).toBe(true);
    expect(inPipelinesDir('notes/a.ipynb', 'pipelines')).toBe(false);
    expect(inPipelinesDir('a.ipynb', '')).toBe(true);
    expect(inPipelinesDir('a.ipynb', null)).toBeNull();
  });

  it('renders pipelines with their last run and the failing cell', () => {
    const failed = pipeline({
      name: 'transform',
      last_run: {
        run_id: 'r1',
        status: 'failed',
        started: '2026-01-01T06:30:00+00:00',
        ended: '2026-01-01T06:31:00+00:00',
        failed_cell: 4,
        error: "KeyError: 'qty'",
        output: '/lake/pipeline-runs/transform/r1/transform.ipynb',
        output_relative: 'lake/pipeline-runs/transform/r1/transform.ipynb',
        kept_branch: 'pipelines/transform/r1',
        dagster_url: 'http://127.0.0.1:3000/runs/r1'
      }
    });
    expect(statusLabel(failed)).toBe('failed at cell 4');
    expect(statusLabel(pipeline())).toBe('never run');
    const listing: IPipelineListing = {
      pipelines_dir: '/lake/pipelines',
      pipelines_dir_relative: 'pipelines',
      dagster: { running: false, url: null, home: '/lake/dagster' },
      items: [pipeline(), failed],
      errors: [{ name: 'broken', message: 'cannot read notebook broken.ipynb' }]
    };
    const html = renderToStaticMarkup(
      <PipelinesView listing={listing} error={null} onRun={async () => undefined} onOpen={() => undefined} />
    );
    expect(html).toContain('ingest_sales');
    expect(html).toContain('0 6 * * * (UTC)');
    expect(html).toContain('failed at cell 4');
    expect(html).toContain('KeyError: &#x27;qty&#x27;');
    expect(html).toContain('href="http://127.0.0.1:3000/runs/r1"');
    expect(html).toContain('rat pipelines serve');
    expect(html).toContain('broken: cannot read notebook broken.ipynb');
    expect(html).toContain('Run now');
    expect(html).toContain('Open the executed notebook');
  });
});
