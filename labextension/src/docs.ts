/** Pure helpers of what the sidebar shows of a table's documentation and last data-quality checks. */
import { CheckStatus, ICheckResult, IColumnDoc, ITableDetail, ITableName } from './api';

/** Why a table is in the filtered list: its `ns.table`, its description, or neither (null). */
export function filterMatch(table: ITableName, filter: string): 'name' | 'description' | null {
  const needle = filter.trim().toLowerCase();
  if (!needle || table.identifier.toLowerCase().includes(needle)) {
    return 'name';
  }
  return table.description?.toLowerCase().includes(needle) ? 'description' : null;
}

/**
 * The part of `text` around the first match of `filter`, at most about `width` characters, with `…`
 * where it was cut: `[before, match, after]` (match empty when there is none: the start of the text).
 */
export function snippet(text: string, filter: string, width = 60): [string, string, string] {
  const needle = filter.trim().toLowerCase();
  const at = needle ? text.toLowerCase().indexOf(needle) : -1;
  if (at < 0) {
    return [text.length > width ? `${text.slice(0, width - 1)}…` : text, '', ''];
  }
  const room = Math.max(0, width - needle.length);
  const start = Math.max(0, at - Math.floor(room / 2));
  const end = Math.min(text.length, at + needle.length + (room - (at - start)));
  const before = (start > 0 ? '…' : '') + text.slice(start, at);
  const after = text.slice(at + needle.length, end) + (end < text.length ? '…' : '');
  return [before, text.slice(at, at + needle.length), after];
}

/** A column's doc and PII mark: the documentation's, else the doc of the field shown (an older schema). */
export function columnDoc(detail: ITableDetail, name: string, fieldDoc: string | null = null): IColumnDoc {
  const found = (detail.columns ?? []).find(c => c.name === name);
  const pii = (detail.pii ?? []).some(p => name === p || name.startsWith(`${p}.`));
  return {
    name,
    type: found?.type ?? '',
    doc: found?.doc ?? fieldDoc ?? null,
    pii: found ? found.pii || pii : pii
  };
}

/** How many checks passed, failed (error) and warned. */
export function checkCounts(checks: ICheckResult[]): { fail: number; warn: number; pass: number } {
  const counts = { fail: 0, warn: 0, pass: 0 };
  for (const c of checks) {
    counts[c.status] += 1;
  }
  return counts;
}

/** `1 failed · 1 warning · 3 passed` (empty without checks). */
export function checksSummary(checks: ICheckResult[]): string {
  const { fail, warn, pass } = checkCounts(checks);
  const parts: string[] = [];
  if (fail) {
    parts.push(`${fail} failed`);
  }
  if (warn) {
    parts.push(`${warn} warning${warn === 1 ? '' : 's'}`);
  }
  if (pass) {
    parts.push(`${pass} passed`);
  }
  return parts.join(' · ');
}

/** What a table's check status means, for a badge's tooltip (empty when there is nothing to say). */
export function statusTitle(status: CheckStatus | undefined): string {
  switch (status) {
    case 'fail':
      return 'An error check failed at its last run';
    case 'warn':
      return 'A warning check failed at its last run';
    case 'pass':
      return 'Every check passed at its last run';
    default:
      return '';
  }
}

/** `1 violating row`, `1,234 violating rows`, or `passed`. */
export function violationText(check: ICheckResult): string {
  if (check.passed) {
    return 'passed';
  }
  if (check.count === null) {
    return 'failed';
  }
  return `${check.count.toLocaleString('en-US')} violating row${check.count === 1 ? '' : 's'}`;
}

/** The columns of sample rows, in the order they first appear. */
export function sampleColumns(rows: Record<string, unknown>[]): string[] {
  const seen: string[] = [];
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.includes(key)) {
        seen.push(key);
      }
    }
  }
  return seen;
}
