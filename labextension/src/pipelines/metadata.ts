/**
 * The `ratatouille.pipeline` notebook metadata, edited by the schedule dialog and by `%rat_pipeline`
 * outputs (MIME type `application/vnd.ratatouille.pipeline+json`, merged into the open notebook).
 */
import { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { KernelMessage } from '@jupyterlab/services';
import { JSONObject, PartialJSONObject } from '@lumino/coreutils';

export const PIPELINE_MIME = 'application/vnd.ratatouille.pipeline+json';

export interface IPipelineSettings {
  schedule: string | null;
  timezone: string;
  parameters: Record<string, unknown>;
  retries: number;
  retry_delay: number;
  timeout: number | null;
  keep_failed_days: number;
}

export const DEFAULTS: IPipelineSettings = {
  schedule: null,
  timezone: 'UTC',
  parameters: {},
  retries: 0,
  retry_delay: 0,
  timeout: null,
  keep_failed_days: 7
};

const CRON_MACROS = ['@hourly', '@daily', '@weekly', '@monthly'];

/** A one-line problem with a cron expression, or null when it looks valid (the server checks fully). */
export function cronProblem(expression: string): string | null {
  const text = expression.trim().split(/\s+/).join(' ');
  if (!text || CRON_MACROS.includes(text)) {
    return null;
  }
  const fields = text.split(' ');
  if (fields.length !== 5) {
    return 'a schedule has 5 fields: minute hour day-of-month month day-of-week (for example 0 6 * * *)';
  }
  const item = /^(\*|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)(\/\d+)?$/;
  const bad = fields.find(f => !f.split(',').every(part => item.test(part)));
  return bad === undefined ? null : `the field "${bad}" is not valid cron`;
}

/** The pipeline settings of a notebook model, or null when it is not a pipeline. */
export function readPipeline(model: INotebookModel): IPipelineSettings | null {
  const section = model.getMetadata('ratatouille') as PartialJSONObject | undefined;
  const value = section?.pipeline;
  if (value === undefined || value === null || value === false) {
    return null;
  }
  return { ...DEFAULTS, ...(typeof value === 'object' ? (value as Partial<IPipelineSettings>) : {}) };
}

/** Merge `changes` into the notebook's pipeline settings (null: the notebook is no longer a pipeline). */
export function writePipeline(model: INotebookModel, changes: Partial<IPipelineSettings> | null): void {
  const section = { ...((model.getMetadata('ratatouille') as JSONObject | undefined) ?? {}) };
  if (changes === null) {
    delete section.pipeline;
  } else {
    const current = section.pipeline && typeof section.pipeline === 'object' ? section.pipeline : {};
    section.pipeline = { ...(current as JSONObject), ...(changes as JSONObject) };
  }
  if (Object.keys(section).length) {
    model.setMetadata('ratatouille', section);
  } else {
    model.deleteMetadata('ratatouille');
  }
}

/** Apply the `%rat_pipeline` outputs of each notebook's kernel to that notebook's metadata. */
export function followPipelineMagic(tracker: INotebookTracker, onApplied?: (panel: NotebookPanel) => void): void {
  tracker.widgetAdded.connect((_, panel) => {
    const onMessage = (_sender: unknown, msg: KernelMessage.IMessage) => {
      const type = msg.header.msg_type;
      if (type !== 'display_data' && type !== 'execute_result') {
        return;
      }
      const data = (msg.content as { data?: Record<string, unknown> }).data;
      const value = data?.[PIPELINE_MIME] as { pipeline?: Partial<IPipelineSettings> | null } | undefined;
      const model = panel.content.model;
      if (value === undefined || !model) {
        return;
      }
      writePipeline(model, value.pipeline ?? null);
      onApplied?.(panel);
    };
    panel.sessionContext.iopubMessage.connect(onMessage);
    panel.disposed.connect(() => panel.sessionContext.iopubMessage.disconnect(onMessage));
  });
}
