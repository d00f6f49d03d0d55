/**
 * The Pipelines section's content: each pipeline with its schedule, last run (status, time, failing
 * cell), links to Dagster and a "Run now" button. Plain React (unit-tested in Node).
 */
import * as React from 'react';

import { formatTime } from '../format';
import { IPipeline, IPipelineListing } from './api';

const ITEM_STYLE: React.CSSProperties = {
  padding: '4px 8px',
  borderBottom: 'var(--jp-border-width) solid var(--jp-border-color2)'
};

export function statusLabel(p: IPipeline): string {
  const run = p.last_run;
  if (!run) {
    return 'never run';
  }
  if (run.status === 'failed') {
    return run.failed_cell ? `failed at cell ${run.failed_cell}` : 'failed';
  }
  return run.status;
}

interface IRowProps {
  pipeline: IPipeline;
  onRun: (p: IPipeline) => Promise<void>;
  onOpen?: (path: string) => void;
}

function Row({ pipeline, onRun, onOpen }: IRowProps): JSX.Element {
  const [busy, setBusy] = React.useState(false);
  const run = pipeline.last_run;
  const runUrl = run?.dagster_url ?? null;
  return (
    <li className="jp-RatPipelines-item" style={ITEM_STYLE}>
      <div style={{ display: 'flex', alignItems: 'center', gap: 6 }}>
        <strong className="jp-RatMono" style={{ flex: 1 }} title={pipeline.path}>
          {pipeline.name}
        </strong>
        <button
          className="jp-RatButton"
          disabled={busy}
          title={`Run ${pipeline.name} now`}
          onClick={() => {
            setBusy(true);
            void onRun(pipeline).finally(() => setBusy(false));
          }}
        >
          {busy ? 'Starting…' : 'Run now'}
        </button>
      </div>
      <div className="jp-RatMono" style={{ color: 'var(--jp-ui-font-color2)' }}>
        {pipeline.schedule ? `${pipeline.schedule} (${pipeline.timezone})` : 'manual'}
      </div>
      <div>
        <span className={`jp-RatPipelines-status jp-RatPipelines-${run?.status ?? 'none'}`}>
          {statusLabel(pipeline)}
        </span>
        {run && <span style={{ color: 'var(--jp-ui-font-color2)' }}> · {formatTime(run.ended ?? run.started)}</span>}
        {run?.output_relative && onOpen && (
          <>
            {' · '}
            <button
              className="jp-RatLinkButton"
              title="Open the executed notebook"
              onClick={() => onOpen(run.output_relative as string)}
            >
              notebook
            </button>
          </>
        )}
        {runUrl && (
          <>
            {' · '}
            <a href={runUrl} target="_blank" rel="noreferrer">
              run
            </a>
          </>
        )}
        {pipeline.dagster_url && (
          <>
            {' · '}
            <a href={pipeline.dagster_url} target="_blank" rel="noreferrer">
              Dagster
            </a>
          </>
        )}
      </div>
      {run?.status === 'failed' && run.error && (
        <div role="note" style={{ color: 'var(--jp-error-color1)' }} title={run.kept_branch ?? undefined}>
          {run.error}
        </div>
      )}
    </li>
  );
}

export interface IPipelinesViewProps {
  listing: IPipelineListing | null;
  error: string | null;
  onRun: (p: IPipeline) => Promise<void>;
  /** Open a notebook (path relative to the Jupyter root). */
  onOpen?: (path: string) => void;
  /** The header's logo and refresh button (JupyterLab components, given by the panel). */
  logo?: React.ReactNode;
  toolbar?: React.ReactNode;
}

export function PipelinesView({ listing, error, onRun, onOpen, logo, toolbar }: IPipelinesViewProps): JSX.Element {
  return (
    <div className="jp-RatExplorer jp-RatPipelines">
      <header className="jp-RatExplorer-header">
        {logo}
        <h2 className="jp-RatExplorer-title">Pipelines</h2>
        {toolbar}
      </header>
      {error && (
        <div className="jp-RatExplorer-banner jp-RatExplorer-banner-error" role="alert">
          {error}
        </div>
      )}
      {!listing && !error && <div className="jp-RatExplorer-empty">Loading…</div>}
      {listing && (
        <>
          <div className="jp-RatExplorer-banner" role="status">
            {listing.dagster.running && listing.dagster.url ? (
              <a href={listing.dagster.url} target="_blank" rel="noreferrer">
                Open Dagster
              </a>
            ) : (
              <span>
                Dagster is not running: start it with <code>rat pipelines serve</code> for schedules.
              </span>
            )}
          </div>
          {listing.items.length === 0 && (
            <div className="jp-RatExplorer-empty">
              No pipeline in {listing.pipelines_dir_relative ?? listing.pipelines_dir}. Use “Ratatouille:
              schedule this notebook” on a notebook there.
            </div>
          )}
          <ul style={{ listStyle: 'none', margin: 0, padding: 0, overflow: 'auto' }}>
            {listing.items.map(p => (
              <Row key={p.name} pipeline={p} onRun={onRun} onOpen={onOpen} />
            ))}
          </ul>
          {listing.errors.map(e => (
            <div key={e.name} className="jp-RatExplorer-banner jp-RatExplorer-banner-error" role="alert">
              {e.name}: {e.message}
            </div>
          ))}
        </>
      )}
    </div>
  );
}
