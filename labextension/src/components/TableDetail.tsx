/** The selected table: actions, counts, and tabs for schema, snapshots, properties and preview rows. */
import { CommandRegistry } from '@lumino/commands';
import * as React from 'react';

import { ITableDetail } from '../api';
import { CommandIDs } from '../commands';
import { columnDoc } from '../docs';
import { atSuffix, canCompact, formatBytes, formatCount, formatTime, provenance, rowDelta } from '../format';
import { ExplorerModel, Tab } from '../model';
import { DataGrid } from './DataGrid';
import { TableFiles } from './TableFiles';
import { Checks, PiiBadge, StatusIcon, TableDocs } from './TableDocs';

const TABS: [Tab, string][] = [
  ['schema', 'Schema'],
  ['checks', 'Checks'],
  ['snapshots', 'Snapshots'],
  ['properties', 'Properties'],
  ['preview', 'Preview']
];

function Action({ commands, id, label, args = {} }: { commands: CommandRegistry; id: string; label?: string; args?: Record<string, string> }): JSX.Element {
  const enabled = commands.isEnabled(id, args);
  return (
    <button
      className="jp-RatButton"
      disabled={!enabled}
      onClick={() => void commands.execute(id, args)}
      title={commands.caption(id, args) || commands.label(id, args)}
    >
      {label ?? commands.label(id, args)}
    </button>
  );
}

function Schema({ detail }: { detail: ITableDetail }): JSX.Element {
  return (
    <table className="jp-RatTable">
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Type</th>
          <th scope="col">Null</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {detail.schema.fields.map(f => {
          const doc = columnDoc(detail, f.name, f.doc);
          return (
            <tr key={f.id} data-testid={`rat-column-${f.name}`}>
              <td className="jp-RatMono">
                {f.name}
                {doc.pii && <PiiBadge />}
              </td>
              <td className="jp-RatMono">{f.type}</td>
              <td>{f.nullable ? 'yes' : 'no'}</td>
              <td className="jp-RatColumnDoc">{doc.doc ?? ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Snapshots({ model }: { model: ExplorerModel }): JSX.Element {
  const page = model.snapshots;
  if (!page) {
    return <div className="jp-RatExplorer-empty">Loading…</div>;
  }
  if (page.total === 0) {
    return <div className="jp-RatExplorer-empty">No snapshot yet.</div>;
  }
  return (
    <>
      <table className="jp-RatTable">
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Operation</th>
            <th scope="col">Rows</th>
            <th scope="col">Written by</th>
            <th scope="col">
              <span className="jp-RatSrOnly">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {page.items.map(s => (
            <tr key={s.snapshot_id} title={`snapshot ${s.snapshot_id}`}>
              <td className="jp-RatMono">{formatTime(s.timestamp)}</td>
              <td>
                {s.operation}
                {s.refs.map(r => (
                  <span key={r} className="jp-RatTree-badge">
                    {r}
                  </span>
                ))}
              </td>
              <td className="jp-RatMono">{rowDelta(s)}</td>
              <td>{provenance(s)}</td>
              <td>
                <button
                  className="jp-RatLinkButton"
                  onClick={() => void model.runPreview({ snapshotId: s.snapshot_id })}
                  aria-label={`Preview the table as of snapshot ${s.snapshot_id}`}
                >
                  preview
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.items.length < page.total && (
        <button className="jp-RatLinkButton" onClick={() => void model.loadMoreSnapshots()}>
          Load more ({page.items.length} of {page.total})
        </button>
      )}
    </>
  );
}

function Properties({ detail }: { detail: ITableDetail }): JSX.Element {
  const rows: [string, string][] = [
    ['location', detail.location],
    ['format version', String(detail.format_version)],
    ['uuid', detail.uuid],
    ['last updated', formatTime(detail.last_updated)],
    ['partitioning', detail.partitioning.join(', ') || 'none'],
    ['sort order', detail.sort_order.map(s => `${s.source} ${s.direction}`).join(', ') || 'none'],
    ...Object.entries(detail.properties)
  ];
  return (
    <table className="jp-RatTable">
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="jp-RatMono jp-RatBreak">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Preview({ model }: { model: ExplorerModel }): JSX.Element {
  if (model.previewLoading) {
    return <div className="jp-RatExplorer-empty">Reading rows…</div>;
  }
  if (model.previewError) {
    return <div className="jp-RatExplorer-error" role="alert">{model.previewError}</div>;
  }
  if (!model.preview) {
    return (
      <button className="jp-RatButton" onClick={() => void model.runPreview()}>
        Preview the first rows
      </button>
    );
  }
  return (
    <>
      <div className="jp-RatDetail-sql jp-RatMono" title="What ran on the server">
        {model.preview.sql}
      </div>
      <DataGrid preview={model.preview} />
    </>
  );
}

export function TableDetail({ model, commands }: { model: ExplorerModel; commands: CommandRegistry }): JSX.Element | null {
  const sel = model.selection;
  if (!sel) {
    return <div className="jp-RatExplorer-empty">Select a table to see its schema, history and rows.</div>;
  }
  const detail = model.detail;
  const title = `${sel.namespace}.${sel.name}${atSuffix({ ref: sel.ref })}`;
  const onTabKey = (event: React.KeyboardEvent) => {
    const index = TABS.findIndex(([t]) => t === model.tab);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step) {
      model.setTab(TABS[(index + step + TABS.length) % TABS.length][0]);
      event.preventDefault();
    }
  };
  return (
    <section className="jp-RatDetail" aria-label={`Table ${title}`}>
      <h3 className="jp-RatDetail-title jp-RatMono">{title}</h3>
      {model.detailError && <div className="jp-RatExplorer-error" role="alert">{model.detailError}</div>}
      {detail && (
        <div className="jp-RatDetail-stats">
          {formatCount(detail.row_count)} rows · {formatBytes(detail.size_bytes)} · {formatCount(detail.snapshot_count)}{' '}
          snapshots
        </div>
      )}
      {detail && <TableDocs detail={detail} onChecks={() => model.setTab('checks')} />}
      {detail && (
        <TableFiles
          detail={detail}
          compaction={model.tableCompaction}
          canCompact={canCompact(detail, model.readOnly, !!model.compaction?.busy)}
          readOnly={model.readOnly}
          onCompact={() => void commands.execute(CommandIDs.compact)}
        />
      )}
      <div className="jp-RatDetail-actions" role="toolbar" aria-label="Table actions">
        <Action commands={commands} id={CommandIDs.preview} label="Preview" />
        <Action commands={commands} id={CommandIDs.insertCell} label="Insert cell" />
        <Action commands={commands} id={CommandIDs.copyReference} label="Copy ref" />
        <Action commands={commands} id={CommandIDs.createBranch} label="Branch…" />
        <Action commands={commands} id={CommandIDs.fastForward} label="Fast-forward main" />
        <Action commands={commands} id={CommandIDs.dropBranch} label="Drop branch" />
      </div>
      <div role="tablist" className="jp-RatTabs" onKeyDown={onTabKey}>
        {TABS.map(([id, label]) => (
          <button
            key={id}
            role="tab"
            aria-selected={model.tab === id}
            tabIndex={model.tab === id ? 0 : -1}
            className={`jp-RatTab${model.tab === id ? ' jp-mod-active' : ''}`}
            onClick={() => model.setTab(id)}
          >
            {label}
            {id === 'checks' && detail && detail.checks?.length > 0 && (
              <>
                {' '}
                <StatusIcon status={detail.check_status} />
              </>
            )}
          </button>
        ))}
      </div>
      <div role="tabpanel" className="jp-RatDetail-panel">
        {model.tab === 'preview' ? (
          <Preview model={model} />
        ) : model.tab === 'snapshots' ? (
          <Snapshots model={model} />
        ) : !detail ? (
          <div className="jp-RatExplorer-empty">Loading…</div>
        ) : model.tab === 'schema' ? (
          <Schema detail={detail} />
        ) : model.tab === 'checks' ? (
          <Checks detail={detail} />
        ) : (
          <Properties detail={detail} />
        )}
      </div>
    </section>
  );
}
