import { describe, expect, it } from 'vitest';

import { codeSpans, findPlaceholders, isIPythonMime, sqlMagicOf } from '../src/sqlcells/detect';
import { CLICKHOUSE_FUNCTIONS, CLICKHOUSE_KEYWORDS, CLICKHOUSE_TYPES } from '../src/sqlcells/words';

const spans = (sql: string) => findPlaceholders(sql).map(p => [sql.slice(p.from, p.to), p.kind]);

describe('sqlMagicOf', () => {
  it('finds %%rat_sql and %%rat_check on the first line, with or without options', () => {
    expect(sqlMagicOf('%%rat_sql\nSELECT 1')).toEqual({ magic: 'rat_sql', line: 1 });
    expect(sqlMagicOf('%%rat_sql target=silver.x mode=append\nSELECT 1')).toEqual({ magic: 'rat_sql', line: 1 });
    expect(sqlMagicOf('%%rat_check table=silver.sales\nSELECT * FROM {silver.sales}')).toEqual({
      magic: 'rat_check',
      line: 1
    });
    expect(sqlMagicOf('%%rat_sql')).toEqual({ magic: 'rat_sql', line: 1 });
    expect(sqlMagicOf('%%rat_sql\tlimit=5')).toEqual({ magic: 'rat_sql', line: 1 });
  });

  it('looks past leading blank lines, as IPython does', () => {
    expect(sqlMagicOf('\n   \n%%rat_sql\nSELECT 1')).toEqual({ magic: 'rat_sql', line: 3 });
  });

  it('ignores other magics, Python, indented or later magics, help and look-alike names', () => {
    for (const source of [
      '',
      'x = 1',
      '%%html\n<b>x</b>',
      '%rat_sql SELECT 1',
      ' %%rat_sql\nSELECT 1',
      'x = 1\n%%rat_sql\nSELECT 1',
      '%%rat_sql?',
      '%%rat_sqlx\nSELECT 1',
      '%%rat_checks',
      '# %%rat_sql'
    ]) {
      expect(sqlMagicOf(source), source).toBeNull();
    }
  });
});

describe('isIPythonMime', () => {
  it('accepts the notebook MIME type of Python kernels only', () => {
    expect(isIPythonMime('text/x-ipython')).toBe(true);
    expect(isIPythonMime('text/x-python')).toBe(false);
    expect(isIPythonMime('text/x-rsrc')).toBe(false);
    expect(isIPythonMime('text/plain')).toBe(false);
  });
});

describe('findPlaceholders', () => {
  it('marks table references and parameters', () => {
    expect(spans('SELECT region, sum(x) FROM {silver.sales} WHERE y > {limit}')).toEqual([
      ['{silver.sales}', 'ref'],
      ['{limit}', 'param']
    ]);
  });

  it('knows branch, snapshot, time and @new suffixes, spaces and typed parameters', () => {
    expect(
      spans(
        'FROM {silver.sales@dev} JOIN { gold.t } USING (id) JOIN {a.b@4412093402345} JOIN ' +
          '{a.b@2024-06-01T12:00:00} JOIN {bronze.events@new} WHERE q = {n:Int32} AND r IN { ids }'
      )
    ).toEqual([
      ['{silver.sales@dev}', 'ref'],
      ['{ gold.t }', 'ref'],
      ['{a.b@4412093402345}', 'ref'],
      ['{a.b@2024-06-01T12:00:00}', 'ref'],
      ['{bronze.events@new}', 'ref'],
      ['{n:Int32}', 'param'],
      ['{ ids }', 'param']
    ]);
  });

  it('leaves braces in strings, quoted names and comments alone', () => {
    const sql =
      "SELECT '{x}', `{y}`, \"{z}\", 'it\\'s {w}' -- {c}\n/* {d.e} */ FROM {a.b} WHERE match(s, '\\d{4}') AND v = {v}";
    expect(spans(sql)).toEqual([
      ['{a.b}', 'ref'],
      ['{v}', 'param']
    ]);
  });

  it('ignores what is neither: regex quantifiers, empty braces, three-part names, maps', () => {
    expect(spans('SELECT {}, {1}, {a.b.c}, {a-b}, {a.b@}, map{x}')).toEqual([['{x}', 'param']]);
  });

  it('adds the offset of the SQL in the cell', () => {
    const cell = '%%rat_sql\nSELECT * FROM {a.b}';
    const body = cell.slice(9);
    const [p] = findPlaceholders(body, 9);
    expect(cell.slice(p.from, p.to)).toBe('{a.b}');
  });

  it('splits the code spans around strings and comments, unterminated ones too', () => {
    expect(codeSpans("a 'b' c")).toEqual([
      [0, 2],
      [5, 7]
    ]);
    expect(codeSpans("a 'b")).toEqual([[0, 2]]);
    expect(codeSpans('a /* b')).toEqual([[0, 2]]);
    expect(codeSpans('a -- b\nc')).toEqual([
      [0, 2],
      [6, 8]
    ]);
  });
});

describe('ClickHouse words', () => {
  it('are lower-case, sorted, and each in one list only', () => {
    const all = [...CLICKHOUSE_KEYWORDS, ...CLICKHOUSE_TYPES, ...CLICKHOUSE_FUNCTIONS];
    expect(new Set(all).size).toBe(all.length);
    for (const list of [CLICKHOUSE_KEYWORDS, CLICKHOUSE_TYPES, CLICKHOUSE_FUNCTIONS]) {
      expect([...list].sort()).toEqual(list);
      expect(list.every(w => /^[a-z][a-z0-9_]*$/.test(w))).toBe(true);
    }
  });

  it('hold the words SQL cells use, keywords before functions of the same name', () => {
    for (const w of ['select', 'from', 'where', 'group', 'prewhere', 'final', 'settings', 'if', 'and']) {
      expect(CLICKHOUSE_KEYWORDS).toContain(w);
    }
    for (const w of ['int64', 'string', 'lowcardinality', 'nullable', 'datetime64']) {
      expect(CLICKHOUSE_TYPES).toContain(w);
    }
    for (const w of ['sum', 'count', 'todate', 'uniqexact', 'arrayjoin', 'quantile']) {
      expect(CLICKHOUSE_FUNCTIONS).toContain(w);
    }
    // Everyday column names are not keywords.
    for (const w of ['id', 'name', 'type', 'value']) {
      expect(CLICKHOUSE_KEYWORDS).not.toContain(w);
    }
  });
});
