/**
 * The CodeMirror side of SQL cells: a cell whose first line is `%%rat_sql` or `%%rat_check` is parsed
 * and highlighted as ClickHouse SQL instead of Python, its magic line as meta, its `{ns.t}` references
 * and `{var}` parameters with classes of their own.
 *
 * The cell editor's own language (IPython) stays configured; while the cell is a SQL cell, a compartment
 * holds the SQL language at the highest precedence, so it wins the `language` facet and the syntax tree
 * is SQL. A transaction extender keeps the compartment in step with the first line (and with the
 * editor's MIME type: Python kernels only), so a cell goes back to Python as soon as its magic goes.
 */
import { HighlightStyle, IndentContext, indentNodeProp, syntaxHighlighting } from '@codemirror/language';
import { SQLDialect } from '@codemirror/lang-sql';
import { Compartment, EditorState, Extension, Prec, RangeSetBuilder, StateField, Text } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView } from '@codemirror/view';
import { classHighlighter, tags } from '@lezer/highlight';

import { findPlaceholders, findSqlMagic, isIPythonMime, MagicLine } from './detect';
import { CLICKHOUSE_FUNCTIONS, CLICKHOUSE_KEYWORDS, CLICKHOUSE_TYPES } from './words';

/** CSS classes of SQL cells, for styling and tests. */
export const SqlCellClasses = {
  /** On the editor's content while the cell is a SQL cell. */
  cell: 'rat-sql-cell',
  magic: 'rat-sql-magic',
  ref: 'rat-sql-ref',
  param: 'rat-sql-param',
  function: 'rat-sql-function',
  type: 'rat-sql-type'
} as const;

/**
 * The indentation of a new line in a SQL cell: that of the line before, one unit more after an open
 * parenthesis. (The SQL parser's own rule indents every line of a statement after its first, and the
 * first line of a cell's only statement is its magic.)
 */
export function sqlLineIndent(cx: IndentContext, pos: number): number {
  const before = cx.lineAt(pos, -1);
  const indent = cx.lineIndent(pos, -1);
  return /\(\s*$/.test(before.text) ? indent + cx.unit : indent;
}

/** ClickHouse SQL as the SQL parser of CodeMirror knows it. */
export const ClickHouseSQL = SQLDialect.define({
  keywords: CLICKHOUSE_KEYWORDS.join(' '),
  types: CLICKHOUSE_TYPES.join(' '),
  builtin: CLICKHOUSE_FUNCTIONS.join(' '),
  backslashEscapes: true,
  identifierQuotes: '`"',
  operatorChars: '*+-%<>!=&|~^/:'
}).configureLanguage({ props: [indentNodeProp.add({ 'Script Statement': cx => sqlLineIndent(cx, cx.pos) })] });

// JupyterLab's highlight style colours keywords, strings, numbers...; the functions and types of SQL carry
// tags it leaves plain, so they get classes of their own, coloured by the theme below.
const sqlHighlightStyle = HighlightStyle.define([
  { tag: tags.standard(tags.name), class: SqlCellClasses.function },
  { tag: tags.typeName, class: SqlCellClasses.type }
]);

const sqlCellTheme = EditorView.baseTheme({
  [`.${SqlCellClasses.function}`]: { color: 'var(--jp-mirror-editor-builtin-color)' },
  [`.${SqlCellClasses.type}`]: { color: 'var(--jp-mirror-editor-variable-2-color)' },
  [`.${SqlCellClasses.magic}, .${SqlCellClasses.magic} span`]: {
    color: 'var(--jp-mirror-editor-meta-color)',
    fontWeight: 'normal'
  },
  [`.${SqlCellClasses.ref}, .${SqlCellClasses.ref} span`]: {
    color: 'var(--jp-mirror-editor-def-color)',
    fontWeight: 'normal'
  },
  [`.${SqlCellClasses.ref}`]: {
    backgroundColor: 'color-mix(in srgb, var(--jp-mirror-editor-def-color) 10%, transparent)',
    borderRadius: '2px'
  },
  [`.${SqlCellClasses.param}, .${SqlCellClasses.param} span`]: {
    color: 'var(--jp-mirror-editor-variable-2-color)',
    fontStyle: 'italic',
    fontWeight: 'normal'
  }
});

const magicMark = Decoration.mark({ class: SqlCellClasses.magic });
const refMark = Decoration.mark({ class: SqlCellClasses.ref });
const paramMark = Decoration.mark({ class: SqlCellClasses.param });

/** The decorations of a SQL cell: its magic line, references and parameters. */
export function sqlCellDecorations(doc: Text): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  const magic = magicOf(doc);
  if (!magic) {
    return Decoration.none;
  }
  const line = doc.line(magic.line);
  if (line.to > line.from) {
    builder.add(line.from, line.to, magicMark);
  }
  const body = doc.sliceString(line.to);
  for (const p of findPlaceholders(body, line.to)) {
    builder.add(p.from, p.to, p.kind === 'ref' ? refMark : paramMark);
  }
  return builder.finish();
}

const decorations = StateField.define<DecorationSet>({
  create: state => sqlCellDecorations(state.doc),
  update: (value, tr) => (tr.docChanged ? sqlCellDecorations(tr.newDoc) : value),
  // Outer decorations wrap the highlighter's spans: a reference or parameter stays one element.
  provide: field => EditorView.outerDecorations.from(field)
});

/** What a SQL cell adds to its editor; `Prec.highest` makes its language win over the cell's Python. */
export const sqlCellExtension: Extension = [
  Prec.highest(ClickHouseSQL.language),
  syntaxHighlighting(sqlHighlightStyle),
  syntaxHighlighting(classHighlighter),
  decorations,
  sqlCellTheme,
  EditorView.contentAttributes.of({ class: SqlCellClasses.cell })
];

/** The SQL magic opening a CodeMirror document, if any. */
export function magicOf(doc: Text): MagicLine | null {
  return findSqlMagic(n => (n <= doc.lines ? doc.line(n).text : null));
}

/**
 * The editor extension of SQL cells for one editor. `mimeType` reads the editor's current MIME type
 * (it changes when the notebook's kernel is known); `initial` is the document the editor starts with.
 */
export function sqlCells(mimeType: () => string, initial: string): Extension {
  const compartment = new Compartment();
  const wanted = (doc: Text): boolean => isIPythonMime(mimeType()) && magicOf(doc) !== null;
  const contentFor = (on: boolean): Extension => (on ? sqlCellExtension : []);
  return [
    compartment.of(contentFor(wanted(Text.of(initial.split('\n'))))),
    // Every transaction is looked at (the check reads one or two lines): a typed magic, an undo, a
    // remote edit, or the language reconfiguration that follows a MIME type change.
    EditorState.transactionExtender.of(tr => {
      const on = wanted(tr.newDoc);
      const active = compartment.get(tr.startState) === sqlCellExtension;
      return on === active ? null : { effects: compartment.reconfigure(contentFor(on)) };
    })
  ];
}
