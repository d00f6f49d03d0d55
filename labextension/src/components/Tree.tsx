/**
 * The lazy tree (namespaces → tables → branches and tags) and the flat filtered list.
 *
 * Keyboard: Up/Down move between visible items, Right expands (or moves into) an item, Left collapses
 * it (or moves to its parent), Enter or Space selects a table or ref, Home/End jump to the ends.
 */
import { caretDownIcon, caretRightIcon, folderIcon, tableRowsIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IListing, ExplorerModel } from '../model';
import { CheckStatus, ITableName } from '../api';
import { filterMatch, snippet, statusTitle } from '../docs';

function focusSibling(current: HTMLElement, step: number | 'first' | 'last'): void {
  const tree = current.closest('[role="tree"]');
  if (!tree) {
    return;
  }
  const items = Array.from(tree.querySelectorAll<HTMLElement>('[role="treeitem"]'));
  const index = items.indexOf(current);
  const next =
    step === 'first' ? items[0] : step === 'last' ? items[items.length - 1] : items[Math.max(0, Math.min(items.length - 1, index + step))];
  next?.focus();
}

function focusParent(current: HTMLElement): void {
  const parent = current.parentElement?.closest<HTMLElement>('[role="group"]')?.previousElementSibling;
  if (parent instanceof HTMLElement && parent.getAttribute('role') === 'treeitem') {
    parent.focus();
  }
}

interface IItemProps {
  label: string;
  level: number;
  expanded?: boolean;
  selected?: boolean;
  icon?: React.ReactNode;
  badge?: string;
  /** A table's check status: a badge when its checks failed or warned. */
  status?: CheckStatus;
  /** A second line (a description matched by the filter). */
  detail?: React.ReactNode;
  title?: string;
  onActivate: () => void;
  onToggle?: () => void;
  testId?: string;
}

function TreeItem(props: IItemProps): JSX.Element {
  const { label, level, expanded, selected, icon, badge, status, detail, title, onActivate, onToggle, testId } = props;
  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const el = event.currentTarget;
    switch (event.key) {
      case 'ArrowDown':
        focusSibling(el, 1);
        break;
      case 'ArrowUp':
        focusSibling(el, -1);
        break;
      case 'Home':
        focusSibling(el, 'first');
        break;
      case 'End':
        focusSibling(el, 'last');
        break;
      case 'ArrowRight':
        if (onToggle && !expanded) {
          onToggle();
        } else {
          focusSibling(el, 1);
        }
        break;
      case 'ArrowLeft':
        if (onToggle && expanded) {
          onToggle();
        } else {
          focusParent(el);
        }
        break;
      case 'Enter':
      case ' ':
        onActivate();
        break;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  };
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  return (
    <div
      role="treeitem"
      aria-level={level}
      aria-expanded={onToggle ? !!expanded : undefined}
      aria-selected={!!selected}
      tabIndex={selected || (level === 1 && !selected) ? 0 : -1}
      className={`jp-RatTree-item${selected ? ' jp-mod-selected' : ''}`}
      style={{ paddingLeft: `${(level - 1) * 14 + 4}px` }}
      onKeyDown={onKeyDown}
      onClick={event => {
        event.stopPropagation();
        onActivate();
      }}
      title={title ?? label}
      data-testid={testId}
    >
      <span
        className="jp-RatTree-caret"
        onClick={event => {
          if (onToggle) {
            event.stopPropagation();
            onToggle();
          }
        }}
      >
        {onToggle ? <Caret.react tag="span" /> : null}
      </span>
      {icon}
      <span className="jp-RatTree-text">
        <span className="jp-RatTree-label">{label}</span>
        {detail ? <span className="jp-RatTree-detail">{detail}</span> : null}
      </span>
      {badge ? <span className="jp-RatTree-badge">{badge}</span> : null}
      {status === 'fail' || status === 'warn' ? (
        <span className={`jp-RatTree-status jp-mod-${status}`} title={statusTitle(status)} data-testid="rat-check-badge">
          {status}
        </span>
      ) : null}
    </div>
  );
}

/** The description of a table the filter found by its description, the match emphasized. */
function Matched({ table, filter }: { table: ITableName; filter: string }): JSX.Element | null {
  if (!table.description) {
    return null;
  }
  const [before, match, after] = snippet(table.description, filter, 32);
  return (
    <>
      {before}
      <mark className="jp-RatTree-match">{match}</mark>
      {after}
    </>
  );
}

function tableTitle(t: ITableName): string {
  const description = t.description ? `\n${t.description}` : '';
  const checks = statusTitle(t.check_status);
  return `${t.identifier}${description}${checks ? `\n${checks}` : ''}\nEnter to open, Right for its branches and tags`;
}

function TableItems({ model, tables, level }: { model: ExplorerModel; tables: ITableName[]; level: number }): JSX.Element {
  const sel = model.selection;
  const filter = model.filtered ? model.filter : '';
  return (
    <>
      {tables.map(t => {
        const refs = model.refs.get(t.identifier);
        const isSel = sel?.namespace === t.namespace && sel?.name === t.name;
        return (
          <React.Fragment key={t.identifier}>
            <TreeItem
              label={level === 1 ? t.identifier : t.name}
              level={level}
              expanded={refs !== undefined}
              selected={isSel && !sel?.ref}
              icon={<tableRowsIcon.react tag="span" className="jp-RatTree-icon" />}
              onActivate={() => void model.select({ namespace: t.namespace, name: t.name, ref: null })}
              onToggle={() => void model.toggleRefs(t.identifier)}
              testId={`rat-table-${t.identifier}`}
              status={t.check_status}
              detail={filterMatch(t, filter) === 'description' ? <Matched table={t} filter={filter} /> : undefined}
              title={tableTitle(t)}
            />
            {refs !== undefined && (
              <div role="group">
                {refs === 'loading' ? (
                  <div className="jp-RatTree-more" style={{ paddingLeft: `${level * 14 + 22}px` }}>
                    loading…
                  </div>
                ) : (
                  refs.map(r => (
                    <TreeItem
                      key={r.name}
                      label={r.name}
                      level={level + 1}
                      badge={r.type}
                      selected={isSel && sel?.ref === r.name}
                      onActivate={() =>
                        void model.select({ namespace: t.namespace, name: t.name, ref: r.name === 'main' ? null : r.name })
                      }
                      testId={`rat-ref-${t.identifier}@${r.name}`}
                    />
                  ))
                )}
              </div>
            )}
          </React.Fragment>
        );
      })}
    </>
  );
}

function More({ listing, level, onMore }: { listing: IListing; level: number; onMore: () => void }): JSX.Element | null {
  const indent = { paddingLeft: `${level * 14 + 4}px` };
  if (listing.error) {
    return (
      <div className="jp-RatTree-more jp-RatExplorer-error" style={indent} role="alert">
        {listing.error}
      </div>
    );
  }
  if (listing.loading) {
    return (
      <div className="jp-RatTree-more" style={indent}>
        loading…
      </div>
    );
  }
  if (listing.items.length < listing.total) {
    return (
      <button className="jp-RatTree-more jp-RatLinkButton" style={indent} onClick={onMore}>
        Load more ({listing.items.length} of {listing.total})
      </button>
    );
  }
  return null;
}

export function Tree({ model }: { model: ExplorerModel }): JSX.Element {
  if (model.filtered) {
    const listing = model.filtered;
    return (
      <div role="tree" aria-label="Tables matching the filter" className="jp-RatTree">
        <TableItems model={model} tables={listing.items} level={1} />
        {!listing.loading && listing.total === 0 && <div className="jp-RatExplorer-empty">No table matches.</div>}
        <More listing={listing} level={0} onMore={() => void model.setFilter(model.filter, true)} />
      </div>
    );
  }
  if (model.namespacesError) {
    return <div className="jp-RatExplorer-error" role="alert">{model.namespacesError}</div>;
  }
  if (model.namespaces === null) {
    return <div className="jp-RatExplorer-empty">Loading…</div>;
  }
  if (model.namespaces.length === 0) {
    return <div className="jp-RatExplorer-empty">The lakehouse has no tables yet.</div>;
  }
  return (
    <div role="tree" aria-label="Namespaces and tables" className="jp-RatTree">
      {model.namespaces.map(ns => {
        const listing = model.listings.get(ns);
        return (
          <React.Fragment key={ns}>
            <TreeItem
              label={ns}
              level={1}
              expanded={listing !== undefined}
              icon={<folderIcon.react tag="span" className="jp-RatTree-icon" />}
              onActivate={() => void model.toggleNamespace(ns)}
              onToggle={() => void model.toggleNamespace(ns)}
              badge={listing && !listing.loading ? String(listing.total) : undefined}
              testId={`rat-namespace-${ns}`}
            />
            {listing && (
              <div role="group">
                <TableItems model={model} tables={listing.items} level={2} />
                <More listing={listing} level={1} onMore={() => void model.loadTables(ns)} />
              </div>
            )}
          </React.Fragment>
        );
      })}
    </div>
  );
}
