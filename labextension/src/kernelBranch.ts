/**
 * The ratatouille branch of the current notebook's kernel, for the status bar.
 *
 * It is read with a silent execution (`silent: true`, `store_history: false`, no output, no execution
 * count) whose only content is a user expression: `rat.session.branch` when the kernel has already
 * imported ratatouille, else an empty string (the kernel is never made to import it). Non-Python
 * kernels answer an error, and the status bar then shows nothing. It is read again when the current
 * notebook or its kernel changes and after each cell the user runs (a cell may switch branches).
 */
import { INotebookTracker, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import { kernelBranch } from './kernelQuery';

export class KernelBranchTracker {
  constructor(private readonly tracker: INotebookTracker) {
    tracker.currentChanged.connect(this.onCurrent, this);
    NotebookActions.executed.connect(this.onExecuted, this);
    this.onCurrent();
  }

  /** The current notebook kernel's branch, or null. */
  get branch(): string | null {
    return this._branch;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted after a user's cell ran (the explorer then checks the catalog for changes). */
  get executed(): ISignal<this, void> {
    return this._executed;
  }

  dispose(): void {
    this.tracker.currentChanged.disconnect(this.onCurrent, this);
    NotebookActions.executed.disconnect(this.onExecuted, this);
    Signal.clearData(this);
  }

  /** Read the branch of the current notebook's kernel again. */
  async update(): Promise<void> {
    const panel = this.tracker.currentWidget;
    const kernel = panel?.sessionContext.session?.kernel;
    let branch: string | null = null;
    if (kernel && kernel.status !== 'dead') {
      try {
        branch = await kernelBranch(kernel);
      } catch {
        branch = null;
      }
    }
    if (panel !== this.tracker.currentWidget) {
      return; // the user moved on meanwhile
    }
    if (branch !== this._branch) {
      this._branch = branch;
      this._changed.emit();
    }
  }

  private onCurrent(): void {
    const panel = this.tracker.currentWidget;
    if (panel !== this._panel) {
      this._panel?.sessionContext.kernelChanged.disconnect(this.onKernel, this);
      this._panel = panel;
      panel?.sessionContext.kernelChanged.connect(this.onKernel, this);
    }
    void panel?.sessionContext.ready.then(() => this.update());
    if (!panel) {
      void this.update();
    }
  }

  private onKernel(): void {
    void this.update();
  }

  private onExecuted(_: unknown, args: { notebook: unknown }): void {
    this._executed.emit();
    if (this._panel && args.notebook === this._panel.content) {
      window.clearTimeout(this._debounce);
      this._debounce = window.setTimeout(() => void this.update(), 200);
    }
  }

  private _branch: string | null = null;
  private _panel: NotebookPanel | null = null;
  private _debounce = 0;
  private _changed = new Signal<this, void>(this);
  private _executed = new Signal<this, void>(this);
}
