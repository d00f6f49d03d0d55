/**
 * The pure logic of SQL cells: which cell is one (its first line is a `%%rat_sql` / `%%rat_check` magic)
 * and where its `{ns.t}` table references and `{var}` parameters are. No CodeMirror here; the editor
 * extension (./editor.ts) turns these into a language and decorations.
 *
 * The rules follow the kernel side (ratatouille/sqltext.py, ratatouille_jupyter/magics/params.py):
 * braces inside string literals, quoted names and comments are text; `{ident.ident}` with optional
 * `@ref` suffixes is a table reference; `{ident}` or `{ident:Type}` is a bound parameter.
 */

/** The cell magics whose body is ClickHouse SQL. */
export const SQL_MAGICS: readonly string[] = ['rat_sql', 'rat_check'];

/** Where a SQL cell's magic line is. */
export interface MagicLine {
  /** The magic's name, without `%%`. */
  magic: string;
  /** 1-based number of the magic line (IPython skips blank lines before a cell magic). */
  line: number;
}

/** How many leading blank lines are looked through before giving up. */
const MAX_BLANK_LINES = 50;
const MAGIC_RE = /^%%([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/;

/**
 * The SQL magic opening a cell, given a way to read its lines (1-based; `null` past the end).
 *
 * IPython sees a cell magic only on the first non-blank line, at column 0, so ` %%rat_sql` or a magic
 * after code is not one; `%%rat_sql?` (help) is not one either.
 */
export function findSqlMagic(lineAt: (n: number) => string | null): MagicLine | null {
  for (let n = 1; n <= MAX_BLANK_LINES + 1; n++) {
    const text = lineAt(n);
    if (text === null) {
      return null;
    }
    if (text.trim() === '') {
      continue;
    }
    const m = MAGIC_RE.exec(text);
    return m && SQL_MAGICS.includes(m[1]) ? { magic: m[1], line: n } : null;
  }
  return null;
}

/** {@link findSqlMagic} on a whole cell's text. */
export function sqlMagicOf(source: string): MagicLine | null {
  const lines = source.split('\n', MAX_BLANK_LINES + 2);
  return findSqlMagic(n => (n <= lines.length ? lines[n - 1] : null));
}

/** Whether an editor's MIME type is that of a notebook (or console) on a Python kernel. */
export function isIPythonMime(mime: string): boolean {
  return mime === 'text/x-ipython';
}

/** A `{...}` placeholder in SQL text. */
export interface Placeholder {
  /** Offset of `{`. */
  from: number;
  /** Offset just past `}`. */
  to: number;
  /** `ref`: a table, `{ns.t}` / `{ns.t@branch}`; `param`: a bound notebook variable, `{x}` / `{x:Type}`. */
  kind: 'ref' | 'param';
}

/** The [from, to) spans of `sql` that are code: outside strings, quoted names and comments. */
export function codeSpans(sql: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const n = sql.length;
  let i = 0;
  let start = 0;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      spans.push([start, i]);
      i += 1;
      while (i < n && sql[i] !== c) {
        i += sql[i] === '\\' ? 2 : 1;
      }
      i += 1;
      start = Math.min(i, n);
    } else if (sql.startsWith('--', i)) {
      spans.push([start, i]);
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      start = i;
    } else if (sql.startsWith('/*', i)) {
      spans.push([start, i]);
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      start = i;
    } else {
      i += 1;
    }
  }
  spans.push([start, n]);
  return spans.filter(([a, b]) => b > a);
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
// A ref after "@": a branch/tag name, a snapshot id, or an ISO time (as ratatouille/sqltext.py).
const REF = '[A-Za-z0-9_][A-Za-z0-9_./:+-]*(?:[ T][0-9:.+-]+)?';
const REFERENCE_RE = new RegExp(`\\{\\s*${IDENT}\\.${IDENT}(?:@${REF})?(?:@${REF})?\\s*\\}`, 'g');
const PARAM_RE = new RegExp(`\\{\\s*${IDENT}\\s*(?::\\s*[^{}]+?\\s*)?\\}`, 'g');

/**
 * The table references and parameters of `sql`, in order, skipping strings, quoted names and comments.
 * `offset` is added to every position (the place of `sql` in the cell).
 */
export function findPlaceholders(sql: string, offset = 0): Placeholder[] {
  const found: Placeholder[] = [];
  for (const [a, b] of codeSpans(sql)) {
    const segment = sql.slice(a, b);
    for (const [re, kind] of [
      [REFERENCE_RE, 'ref'],
      [PARAM_RE, 'param']
    ] as const) {
      re.lastIndex = 0;
      for (let m = re.exec(segment); m; m = re.exec(segment)) {
        found.push({ from: offset + a + m.index, to: offset + a + m.index + m[0].length, kind });
      }
    }
  }
  return found.sort((x, y) => x.from - y.from);
}
