/** The sidebar's Pipelines panel: it lists the pipelines, refreshing every 10 s while visible. */
import { Notification } from '@jupyterlab/apputils';
import { ReactWidget, refreshIcon, runIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { ApiError } from '../api';
import { IPipeline, IPipelineListing, PipelinesApi } from './api';
import { PipelinesView } from './PipelinesView';

export const POLL_MS = 10000;

/** The sidebar widget; `listing` is shared with the schedule command (where the pipelines folder is). */
export class PipelinesPanel extends ReactWidget {
  constructor(
    readonly api: PipelinesApi = new PipelinesApi(),
    private readonly open?: (path: string) => void
  ) {
    super();
    this.addClass('jp-RatExplorer-panel');
    this.id = 'ratatouille-pipelines';
    this.title.icon = runIcon;
    this.title.caption = 'Pipelines';
  }

  get listing(): IPipelineListing | null {
    return this._listing;
  }

  async refresh(): Promise<void> {
    try {
      this._listing = await this.api.list();
      this._error = null;
    } catch (error) {
      this._error = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    }
    this.update();
  }

  async runNow(p: IPipeline): Promise<void> {
    try {
      const launch = await this.api.run(p.name);
      const where = launch.via === 'dagster' ? 'queued on the Dagster daemon' : 'started';
      Notification.success(`Pipeline ${p.name} ${where}.`, { autoClose: 5000 });
    } catch (error) {
      const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
      Notification.error(`Pipeline ${p.name}: ${text}`, { autoClose: 8000 });
    }
    window.setTimeout(() => void this.refresh(), 1500);
  }

  protected render(): JSX.Element {
    return (
      <PipelinesView
        listing={this._listing}
        error={this._error}
        onRun={p => this.runNow(p)}
        onOpen={this.open}
        logo={<runIcon.react tag="span" className="jp-RatExplorer-logo" />}
        toolbar={
          <ToolbarButtonComponent
            icon={refreshIcon}
            onClick={() => void this.refresh()}
            tooltip="Refresh the pipelines"
            aria-label="Refresh"
          />
        }
      />
    );
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
    this.stop();
    this._timer = window.setInterval(() => void this.refresh(), POLL_MS);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.stop();
  }

  dispose(): void {
    this.stop();
    super.dispose();
  }

  private stop(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _listing: IPipelineListing | null = null;
  private _error: string | null = null;
  private _timer: number | null = null;
}
