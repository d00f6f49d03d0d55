/**
 * ratatouille's JupyterLab extension: the Lakehouse Explorer sidebar, its commands, and the status bar
 * item showing the current notebook kernel's ratatouille branch.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';

import { RatApi } from './api';
import { addCommands, CommandIDs } from './commands';
import { ExplorerPanel } from './components/Explorer';
import { StatusBranch } from './components/StatusBranch';
import { KernelBranchTracker } from './kernelBranch';
import { ExplorerModel } from './model';
import pipelinesPlugin from './pipelines';
import resultsPlugin from './result';
import sqlCellsPlugin from './sqlcells';

const PLUGIN_ID = 'ratatouille-jupyterlab:explorer';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Browse the ratatouille lakehouse: tables, snapshots, branches, preview rows.',
  autoStart: true,
  optional: [ILayoutRestorer, INotebookTracker, IStatusBar, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    tracker: INotebookTracker | null,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null
  ) => {
    const model = new ExplorerModel(new RatApi());
    const panel = new ExplorerPanel(model, app.commands);
    app.shell.add(panel, 'left', { rank: 450 });
    restorer?.add(panel, panel.id);
    addCommands(app, model, tracker, panel.id);

    if (palette) {
      for (const command of [CommandIDs.open, CommandIDs.refresh]) {
        palette.addItem({ command, category: 'Lakehouse' });
      }
    }

    if (tracker) {
      const branches = new KernelBranchTracker(tracker);
      // A cell that ran may have written (a magic, rat.write...): ask the catalog at once rather than
      // wait for the next poll.
      branches.executed.connect(() => {
        if (panel.isVisible) {
          window.setTimeout(() => void model.checkChanges(), 300);
        }
      });
      if (statusBar) {
        statusBar.registerStatusItem(PLUGIN_ID + ':branch', {
          item: new StatusBranch(branches),
          align: 'left',
          rank: 4,
          isActive: () => app.shell.currentWidget !== null && tracker.currentWidget === app.shell.currentWidget,
          activeStateChanged: branches.changed
        });
      }
    }
  }
};

export default [plugin, pipelinesPlugin, resultsPlugin, sqlCellsPlugin];
