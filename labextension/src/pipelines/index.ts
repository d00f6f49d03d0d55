/**
 * The Pipelines plugin: the sidebar section, the "Ratatouille: schedule this notebook" command, and the
 * application of `%rat_pipeline` outputs to the open notebook's metadata.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { inPipelinesDir } from './form';
import { askSchedule } from './ScheduleDialog';
import { followPipelineMagic, readPipeline, writePipeline } from './metadata';
import { PipelinesPanel } from './PipelinesPanel';

export const SCHEDULE_COMMAND = 'ratatouille:schedule-notebook';

export const pipelinesPlugin: JupyterFrontEndPlugin<void> = {
  id: 'ratatouille-jupyterlab:pipelines',
  description: 'Notebooks as pipelines: the Pipelines sidebar section and the schedule command.',
  autoStart: true,
  optional: [ILayoutRestorer, INotebookTracker, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    tracker: INotebookTracker | null,
    palette: ICommandPalette | null
  ) => {
    const panel = new PipelinesPanel(undefined, path => void app.commands.execute('docmanager:open', { path }));
    app.shell.add(panel, 'left', { rank: 460 });
    restorer?.add(panel, panel.id);
    if (!tracker) {
      return;
    }
    followPipelineMagic(tracker, () => {
      if (panel.isVisible) {
        window.setTimeout(() => void panel.refresh(), 500);
      }
    });
    app.commands.addCommand(SCHEDULE_COMMAND, {
      label: 'Ratatouille: schedule this notebook',
      caption: 'Make the current notebook a pipeline: schedule, time zone, parameters, retries, timeout',
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        const current = tracker.currentWidget;
        const model = current?.content.model;
        if (!current || !model) {
          return;
        }
        const name = current.context.path.split('/').pop()?.replace(/\.ipynb$/, '') ?? 'notebook';
        const choice = await askSchedule(name, readPipeline(model));
        if (choice === undefined) {
          return;
        }
        writePipeline(model, choice);
        await current.context.save();
        if (!panel.listing) {
          await panel.refresh();
        }
        const inside = inPipelinesDir(current.context.path, panel.listing?.pipelines_dir_relative ?? null);
        if (choice === null) {
          Notification.info(`${name} is no longer a pipeline.`, { autoClose: 5000 });
        } else if (inside === false) {
          Notification.warning(
            `${name} is marked as a pipeline, but pipelines run from ${panel.listing?.pipelines_dir}: move it there.`,
            { autoClose: 10000 }
          );
        } else {
          Notification.success(`${name} is a pipeline${choice.schedule ? ` (${choice.schedule})` : ''}.`, {
            autoClose: 5000
          });
        }
        void panel.refresh();
      }
    });
    palette?.addItem({ command: SCHEDULE_COMMAND, category: 'Lakehouse' });
    app.contextMenu.addItem({ command: SCHEDULE_COMMAND, selector: '.jp-Notebook', rank: 90 });
  }
};

export default pipelinesPlugin;
