import { python } from '@codemirror/lang-python';
import { ensureSyntaxTree, getIndentation, IndentContext, language } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';

import { sqlCellDecorations, sqlCells } from '../src/sqlcells/editor';

const IPYTHON = 'text/x-ipython';

function stateOf(doc: string, mime = IPYTHON) {
  let current = mime;
  const state = EditorState.create({ doc, extensions: sqlCells(() => current, doc) });
  return { state, setMime: (m: string) => (current = m) };
}

const languageName = (state: EditorState) => state.facet(language)?.name ?? null;

function tokenNames(state: EditorState): string[] {
  const names: string[] = [];
  ensureSyntaxTree(state, state.doc.length, 5000)?.iterate({
    enter: node => {
      if (!node.node.firstChild) {
        names.push(`${node.name}:${state.sliceDoc(node.from, node.to)}`);
      }
    }
  });
  return names;
}

describe('sqlCells', () => {
  it('parses a %%rat_sql cell as ClickHouse SQL', () => {
    const { state } = stateOf('%%rat_sql\nSELECT region, sum(x) FROM {silver.sales} WHERE y > {limit}');
    expect(languageName(state)).toBe('sql');
    const tokens = tokenNames(state);
    expect(tokens).toContain('Keyword:SELECT');
    expect(tokens).toContain('Keyword:FROM');
    expect(tokens).toContain('Builtin:sum');
  });

  it('leaves a Python cell alone, and a cell of another kernel', () => {
    expect(languageName(stateOf('x = 1\nSELECT').state)).toBeNull();
    expect(languageName(stateOf('%%rat_sql\nSELECT 1', 'text/x-rsrc').state)).toBeNull();
  });

  it('switches when the first line changes, both ways', () => {
    let { state } = stateOf('SELECT 1');
    expect(languageName(state)).toBeNull();
    state = state.update({ changes: { from: 0, insert: '%%rat_sql\n' } }).state;
    expect(languageName(state)).toBe('sql');
    state = state.update({ changes: { from: 0, to: 2, insert: '# ' } }).state;
    expect(languageName(state)).toBeNull();
    state = state.update({ changes: { from: 0, to: 2, insert: '%%' } }).state;
    expect(languageName(state)).toBe('sql');
  });

  it('wins over the cell\'s Python language, which comes back when the magic goes', () => {
    const doc = '%%rat_sql\nSELECT 1';
    let state = EditorState.create({ doc, extensions: [python(), sqlCells(() => IPYTHON, doc), python()] });
    expect(languageName(state)).toBe('sql');
    state = state.update({ changes: { from: 0, to: 9, insert: 'x = 1' } }).state;
    expect(languageName(state)).toBe('python');
  });

  it('follows the MIME type once a transaction comes', () => {
    const { state, setMime } = stateOf('%%rat_sql\nSELECT 1', 'text/plain');
    expect(languageName(state)).toBeNull();
    setMime(IPYTHON);
    expect(languageName(state.update({}).state)).toBe('sql');
  });
});

describe('sqlCellDecorations', () => {
  it('marks the magic line, the references and the parameters', () => {
    const doc = EditorState.create({ doc: '%%rat_sql limit=5\nSELECT * FROM {a.b} WHERE x = {x}' }).doc;
    const marks: string[] = [];
    sqlCellDecorations(doc).between(0, doc.length, (from, to, value) => {
      marks.push(`${value.spec.class}:${doc.sliceString(from, to)}`);
    });
    expect(marks).toEqual(['rat-sql-magic:%%rat_sql limit=5', 'rat-sql-ref:{a.b}', 'rat-sql-param:{x}']);
  });

  it('has nothing for a Python cell', () => {
    expect(sqlCellDecorations(EditorState.create({ doc: 'f"{x.y}"' }).doc).size).toBe(0);
  });
});

describe('sqlLineIndent', () => {
  it('keeps the indentation of the line before, one unit more after an open parenthesis', () => {
    const indentAfter = (doc: string) => {
      const state = EditorState.create({ doc, extensions: sqlCells(() => IPYTHON, doc) });
      return getIndentation(new IndentContext(state, { simulateBreak: doc.length }), doc.length);
    };
    expect(indentAfter('%%rat_sql')).toBe(0);
    expect(indentAfter('%%rat_sql\nSELECT a')).toBe(0);
    expect(indentAfter('%%rat_sql\nSELECT a\n  FROM t')).toBe(2);
    expect(indentAfter('%%rat_sql\nSELECT count(')).toBe(2);
  });
});
