/**
 * The typed client of the pipelines routes (`docs/rest-api.yaml`): the listing, a pipeline's
 * runs, and "run now". Requests go through JupyterLab's `ServerConnection` (token or XSRF header).
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestJson, segment } from '../api';

export type RunStatus = 'running' | 'success' | 'failed';

export interface IRunSummary {
  run_id: string;
  status: RunStatus;
  started: string;
  ended: string | null;
  failed_cell: number | null;
  error: string;
  output: string;
  /** The executed notebook relative to the Jupyter root (null when outside it). */
  output_relative: string | null;
  kept_branch: string | null;
  dagster_url: string | null;
}

export interface IPipeline {
  name: string;
  path: string;
  schedule: string | null;
  timezone: string;
  parameters: Record<string, unknown>;
  /** Defaults of the parameters cell; a value JSON cannot hold (a set, a date...) comes as its text. */
  parameter_defaults: Record<string, unknown>;
  /** Python type of each default (`expression` when it is not a literal). */
  parameter_types?: Record<string, string>;
  retries: number;
  timeout: number | null;
  writes: string[];
  reads: string[];
  warnings: string[];
  last_run: IRunSummary | null;
  dagster_url: string | null;
}

export interface IPipelineListing {
  pipelines_dir: string;
  /** The pipelines folder relative to the Jupyter root, or null when it is outside it. */
  pipelines_dir_relative: string | null;
  dagster: { running: boolean; url: string | null; home: string };
  items: IPipeline[];
  errors: { name: string; message: string }[];
}

export interface ILaunch {
  pipeline: string;
  run_id: string | null;
  status: string;
  via: 'dagster' | 'process';
  dagster_url: string | null;
}

export class PipelinesApi {
  constructor(private readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** `GET /ratatouille/pipelines`. */
  list(): Promise<IPipelineListing> {
    return this.request('pipelines');
  }

  /** `POST /ratatouille/pipelines/{name}/runs`. */
  run(name: string, parameters: Record<string, unknown> = {}): Promise<ILaunch> {
    return this.request(`pipelines/${segment(name)}/runs`, {
      method: 'POST',
      body: JSON.stringify({ parameters })
    });
  }

  private request<T>(path: string, init: RequestInit = {}): Promise<T> {
    return requestJson<T>(this.settings, path, init);
  }
}
