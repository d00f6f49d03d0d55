/** A table's documentation (description, owner, tags) and its last data-quality check results. */
import { LabIcon, checkIcon, closeIcon, errorIcon, tagIcon, userIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { CheckStatus, ICheckResult, ITableDetail } from '../api';
import { checksSummary, sampleColumns, statusTitle, violationText } from '../docs';
import { cellText, formatTime } from '../format';

const STATUS_ICONS: Record<'pass' | 'warn' | 'fail', LabIcon> = {
  pass: checkIcon,
  warn: errorIcon,
  fail: closeIcon
};

/** A check status as a themed icon (`pass`, `warn`, `fail`); nothing without a status. */
export function StatusIcon({ status, label }: { status: CheckStatus | undefined; label?: string }): JSX.Element | null {
  if (!status) {
    return null;
  }
  const Icon = STATUS_ICONS[status];
  return (
    <span className={`jp-RatCheckStatus jp-mod-${status}`} role="img" aria-label={label ?? status} title={statusTitle(status)}>
      <Icon.react tag="span" />
    </span>
  );
}

/** A PII badge next to a column name. */
export function PiiBadge(): JSX.Element {
  return (
    <span className="jp-RatPii" title="Marked as personal data (PII)">
      PII
    </span>
  );
}

/** Description, owner, tags and the checks' summary, shown above the tabs; nothing when there is none. */
export function TableDocs({ detail, onChecks }: { detail: ITableDetail; onChecks: () => void }): JSX.Element | null {
  const checks = detail.checks ?? [];
  const tags = detail.tags ?? [];
  if (!detail.description && !detail.owner && tags.length === 0 && checks.length === 0) {
    return null;
  }
  return (
    <div className="jp-RatDocs" data-testid="rat-docs">
      {detail.description && <p className="jp-RatDocs-description">{detail.description}</p>}
      {(detail.owner || tags.length > 0) && (
        <div className="jp-RatDocs-meta">
          {detail.owner && (
            <span className="jp-RatDocs-owner" title="Owner">
              <userIcon.react tag="span" className="jp-RatDocs-icon" />
              {detail.owner}
            </span>
          )}
          {tags.length > 0 && (
            <span className="jp-RatDocs-tags" aria-label="Tags">
              <tagIcon.react tag="span" className="jp-RatDocs-icon" />
              {tags.map(t => (
                <span key={t} className="jp-RatChip">
                  {t}
                </span>
              ))}
            </span>
          )}
        </div>
      )}
      {checks.length > 0 && (
        <button
          className="jp-RatLinkButton jp-RatDocs-checks"
          onClick={onChecks}
          title="Show the last result of each check"
          data-testid="rat-checks-summary"
        >
          <StatusIcon status={detail.check_status} />
          Checks: {checksSummary(checks)}
        </button>
      )}
    </div>
  );
}

function Sample({ rows }: { rows: ICheckResult['sample'] }): JSX.Element {
  const columns = sampleColumns(rows);
  return (
    <table className="jp-RatTable jp-RatCheck-sample" aria-label="Sample of the violating rows">
      <thead>
        <tr>
          {columns.map(c => (
            <th key={c} scope="col" className="jp-RatMono">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={i}>
            {columns.map(c => (
              <td key={c} className={`jp-RatMono${row[c] === null ? ' jp-RatGrid-null' : ''}`}>
                {c in row ? cellText(row[c]) : ''}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CheckRow({ check }: { check: ICheckResult }): JSX.Element {
  return (
    <li className={`jp-RatCheck jp-mod-${check.status}`} data-testid={`rat-check-${check.name}`}>
      <details>
        <summary>
          <StatusIcon status={check.status} label={check.status} />
          <span className="jp-RatMono jp-RatCheck-name">{check.name}</span>
          <span className={`jp-RatChip jp-RatCheck-severity jp-mod-${check.severity}`}>{check.severity}</span>
          <span className="jp-RatCheck-count">{violationText(check)}</span>
          <span className="jp-RatCheck-time jp-RatMono" title={`on ${check.branch ?? 'main'}, snapshot ${check.snapshot_id ?? '–'}`}>
            {formatTime(check.checked_at)}
          </span>
        </summary>
        <div className="jp-RatDetail-sql jp-RatMono" title="The check's SQL: it returns the violating rows">
          {check.sql}
        </div>
        {check.sample.length > 0 ? (
          <Sample rows={check.sample} />
        ) : (
          !check.passed && <div className="jp-RatExplorer-empty">No sample rows stored.</div>
        )}
      </details>
    </li>
  );
}

/** The Checks tab: the last result of each check, failures first; a row expands to its SQL and sample. */
export function Checks({ detail }: { detail: ITableDetail }): JSX.Element {
  const checks = detail.checks ?? [];
  if (checks.length === 0) {
    return (
      <div className="jp-RatExplorer-empty">
        No check has run on this table. Run one with <span className="jp-RatMono">rat.check("{detail.identifier} not_null(id)")</span>.
      </div>
    );
  }
  return (
    <ul className="jp-RatChecks" aria-label="Last check results">
      {checks.map(c => (
        <CheckRow key={c.name} check={c} />
      ))}
    </ul>
  );
}
