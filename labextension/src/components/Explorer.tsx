/** The sidebar panel: header, handshake banner, filter, tree, and the selected table. */
import { InputGroup, ReactWidget, refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { ExplorerModel } from '../model';
import { ratIcon } from '../icons';
import { Banner } from './Banner';
import { TableDetail } from './TableDetail';
import { Tree } from './Tree';
import { useModel } from './useModel';

const FILTER_DELAY_MS = 250;

function Filter({ model }: { model: ExplorerModel }): JSX.Element {
  const [text, setText] = React.useState(model.filter);
  React.useEffect(() => {
    if (text === model.filter) {
      return;
    }
    const timer = window.setTimeout(() => void model.setFilter(text), FILTER_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [text, model]);
  return (
    <div className="jp-RatExplorer-filter">
      <InputGroup
        type="search"
        placeholder="Filter tables (name or description)"
        aria-label="Filter tables"
        value={text}
        onChange={(event: React.ChangeEvent<HTMLInputElement>) => setText(event.target.value)}
        rightIcon="ui-components:search"
      />
    </div>
  );
}

export function ExplorerView({ model, commands }: { model: ExplorerModel; commands: CommandRegistry }): JSX.Element {
  useModel(model);
  return (
    <div className="jp-RatExplorer">
      <header className="jp-RatExplorer-header">
        <ratIcon.react tag="span" className="jp-RatExplorer-logo" />
        <h2 className="jp-RatExplorer-title">Lakehouse</h2>
        <ToolbarButtonComponent
          icon={refreshIcon}
          onClick={() => void model.refresh()}
          tooltip="Refresh the lakehouse explorer"
          aria-label="Refresh"
        />
      </header>
      <Banner handshake={model.handshake} />
      {model.ready && (
        <>
          <Filter model={model} />
          <div className="jp-RatExplorer-tree">
            <Tree model={model} />
          </div>
          <div className="jp-RatExplorer-detail">
            <TableDetail model={model} commands={commands} />
          </div>
        </>
      )}
    </div>
  );
}

/**
 * The sidebar widget. While it is visible it polls `GET /ratatouille/changes` every
 * `poll_interval_ms` (from the handshake) and refreshes when the catalog's marker moved.
 */
export class ExplorerPanel extends ReactWidget {
  constructor(
    readonly model: ExplorerModel,
    private readonly commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-RatExplorer-panel');
    this.id = 'ratatouille-explorer';
    this.title.icon = ratIcon;
    this.title.caption = 'Lakehouse Explorer';
  }

  protected render(): JSX.Element {
    return <ExplorerView model={this.model} commands={this.commands} />;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._started) {
      this._started = true;
      void this.model.start().then(() => this.schedule());
    } else {
      void this.model.checkChanges();
      this.schedule();
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.stop();
  }

  dispose(): void {
    this.stop();
    super.dispose();
  }

  private schedule(): void {
    this.stop();
    const state = this.model.handshake;
    const interval = state.state === 'ok' ? state.server.poll_interval_ms : 0;
    if (interval > 0 && this.isVisible) {
      this._timer = window.setInterval(() => void this.model.checkChanges(), interval);
    }
  }

  private stop(): void {
    if (this._timer !== null) {
      window.clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _started = false;
  private _timer: number | null = null;
}
