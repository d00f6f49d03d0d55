/** A table's layout on storage: its partitioning, its data files (how many are small), delete files, and Compact. */
import * as React from 'react';

import { ITableDetail } from '../api';
import { compactOutcome, filesText, formatBytes, formatCount, partitionText } from '../format';
import { ICompaction } from '../model';

export interface ITableFilesProps {
  detail: ITableDetail;
  /** The selected table's compaction, running or done. */
  compaction: ICompaction | null;
  /** Compact is offered (at least two small files, writable, none running). */
  canCompact: boolean;
  readOnly: boolean;
  onCompact: () => void;
}

function compactTitle(detail: ITableDetail, readOnly: boolean): string {
  if (readOnly) {
    return 'The lakehouse explorer is read-only';
  }
  if ((detail.delete_files ?? 0) > 0) {
    return (
      `Rewrite the files of ${detail.files_branch} that delete files apply to (and its small files) into ` +
      `plain files: reads get faster, the ${formatCount(detail.deleted_rows)} deleted rows stay deleted`
    );
  }
  if ((detail.small_files ?? 0) < 2) {
    return 'Nothing to compact: fewer than two small files';
  }
  return (
    `Rewrite the small files of ${detail.files_branch} into files of about ` +
    `${formatBytes(detail.target_file_bytes)} (one new snapshot; the rows do not change)`
  );
}

export function TableFiles({ detail, compaction, canCompact, readOnly, onCompact }: ITableFilesProps): JSX.Element {
  const busy = !!compaction?.busy;
  const threshold =
    detail.small_file_bytes === null
      ? 'the table policy cannot be read'
      : `small: under ${formatBytes(detail.small_file_bytes)}, the table's policy`;
  return (
    <div className="jp-RatFiles" aria-label="Data files">
      <div className="jp-RatFiles-partitioning" data-testid="rat-partitioning">
        {partitionText(detail.partitioning)}
      </div>
      <div className="jp-RatFiles-row">
        <span
          className="jp-RatFiles-count"
          data-testid="rat-file-counts"
          title={`${formatBytes(detail.file_bytes)} in all (${threshold})`}
        >
          {filesText(detail)}
        </span>
        <button
          className="jp-RatButton"
          disabled={!canCompact || busy}
          aria-busy={busy}
          onClick={onCompact}
          title={compactTitle(detail, readOnly)}
        >
          {busy ? 'Compacting…' : 'Compact'}
        </button>
      </div>
      {busy && (
        <div className="jp-RatFiles-status jp-RatFiles-busy" role="status">
          Compacting the small files of {compaction!.branch}…
        </div>
      )}
      {compaction?.result && (
        <div className="jp-RatFiles-status" role="status" data-testid="rat-compact-outcome">
          {compactOutcome(compaction.result)}
        </div>
      )}
      {compaction?.error && (
        <div className="jp-RatExplorer-error" role="alert">
          Compaction failed: {compaction.error}
        </div>
      )}
    </div>
  );
}
