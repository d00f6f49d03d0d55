/**
 * The SQL cells plugin: in notebooks (and consoles) on a Python kernel, a cell whose first line is
 * `%%rat_sql` or `%%rat_check` is highlighted as ClickHouse SQL, with its `{ns.t}` table references and
 * `{var}` parameters marked. Ordinary cells keep their Python highlighting.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { EditorExtensionRegistry, IEditorExtensionRegistry } from '@jupyterlab/codemirror';

import { sqlCells } from './editor';

export const sqlCellsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'ratatouille-jupyterlab:sql-cells',
  description: 'Highlights %%rat_sql and %%rat_check cells as ClickHouse SQL.',
  autoStart: true,
  requires: [IEditorExtensionRegistry],
  activate: (_app: JupyterFrontEnd, registry: IEditorExtensionRegistry) => {
    registry.addExtension({
      name: 'ratatouille:sql-cells',
      factory: ({ inline, model }) =>
        // Cell and console editors are inline; a file editor (a .py or .sql file) is left alone.
        inline
          ? EditorExtensionRegistry.createImmutableExtension(sqlCells(() => model.mimeType, model.sharedModel.getSource()))
          : null
    });
  }
};

export default sqlCellsPlugin;
