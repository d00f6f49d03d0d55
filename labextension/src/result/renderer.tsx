/**
 * The renderer of a result bundle: its table (the bundle's `text/html`, drawn by JupyterLab's HTML
 * renderer) or a chart of its sample (drawn by JupyterLab's Vega-Lite renderer), with a toolbar to
 * switch. Front ends without this extension show the `text/html` of the same bundle.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Panel } from '@lumino/widgets';
import * as React from 'react';

import { chartSpec, defaultChoice, fitChoice, IChartChoice, IResultSample, readSample, RESULT_MIME, VEGALITE_MIME } from './chartSpec';
import { ResultMode, ResultToolbar } from './ResultToolbar';

export class ResultRenderer extends Panel implements IRenderMime.IRenderer {
  constructor(private readonly registry: IRenderMimeRegistry) {
    super();
    this.addClass('jp-RatResult');
    this._bar = ReactWidget.create(<></>);
    this._bar.addClass('jp-RatResult-bar');
    this.addWidget(this._bar);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._model = model;
    this._sample = readSample(model.data[RESULT_MIME]);
    if (this._sample && !this._choice) {
      this._choice = defaultChoice(this._sample);
    }
    this._drawBar();
    await this._drawBody();
  }

  private _drawBar(): void {
    const sample = this._sample;
    const choice = this._choice;
    if (!sample || !choice) {
      this._bar.hide();
      return;
    }
    const next = ReactWidget.create(
      <ResultToolbar
        sample={sample}
        mode={this._mode}
        choice={choice}
        onMode={mode => void this._set(mode, choice)}
        onChoice={c => void this._set(this._mode, fitChoice(sample, c))}
      />
    );
    next.addClass('jp-RatResult-bar');
    this._bar.dispose();
    this._bar = next;
    this.insertWidget(0, next);
  }

  private async _set(mode: ResultMode, choice: IChartChoice): Promise<void> {
    this._mode = mode;
    this._choice = choice;
    this._drawBar();
    await this._drawBody();
  }

  private async _drawBody(): Promise<void> {
    const model = this._model;
    if (!model) {
      return;
    }
    const chart = this._mode === 'chart' && this._sample && this._choice;
    const mime = chart ? VEGALITE_MIME : 'text/html';
    const value = chart ? chartSpec(this._sample!, this._choice!) : model.data['text/html'] ?? model.data['text/plain'];
    const shown = chart || model.data['text/html'] !== undefined ? mime : 'text/plain';
    const renderer = this.registry.createRenderer(shown);
    renderer.addClass(chart ? 'jp-RatResult-chart' : 'jp-RatResult-table');
    const metadata = chart ? { [VEGALITE_MIME]: { embed_options: { renderer: 'svg' } } } : {};
    const inner = new MimeModel({ data: { [shown]: value as IRenderMime.IMimeModel['data'][string] }, trusted: model.trusted, metadata });
    this._body?.dispose();
    this._body = renderer;
    this.addWidget(renderer);
    await renderer.renderModel(inner);
  }

  private _bar: ReactWidget;
  private _body: IRenderMime.IRenderer | null = null;
  private _model: IRenderMime.IMimeModel | null = null;
  private _sample: IResultSample | null = null;
  private _choice: IChartChoice | null = null;
  private _mode: ResultMode = 'table';
}
