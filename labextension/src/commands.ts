/**
 * The sidebar's commands. Buttons, the context of a table, and the command palette all go through
 * them, so every action has one implementation and can be bound to a key.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Dialog, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ApiError } from './api';
import { canCompact, formatBytes, referenceText, sqlCellText } from './format';
import { ExplorerModel } from './model';

export namespace CommandIDs {
  export const open = 'ratatouille:open';
  export const refresh = 'ratatouille:refresh';
  export const preview = 'ratatouille:preview';
  export const insertCell = 'ratatouille:insert-sql-cell';
  export const copyReference = 'ratatouille:copy-reference';
  export const createBranch = 'ratatouille:create-branch';
  export const fastForward = 'ratatouille:fast-forward-branch';
  export const dropBranch = 'ratatouille:drop-branch';
  export const compact = 'ratatouille:compact-table';
}

/** What a table command acts on: the selected table unless `identifier` is given. */
interface ITarget {
  namespace: string;
  name: string;
  identifier: string;
  ref: string | null;
  snapshotId: string | null;
}

function target(model: ExplorerModel, args: ReadonlyPartialJSONObject): ITarget | null {
  const identifier = typeof args.identifier === 'string' ? args.identifier : null;
  const sel = model.selection;
  if (!identifier && !sel) {
    return null;
  }
  const [namespace, name] = identifier ? identifier.split('.') : [sel!.namespace, sel!.name];
  const ref = typeof args.ref === 'string' ? args.ref : identifier ? null : sel!.ref;
  const snapshotId = typeof args.snapshotId === 'string' ? args.snapshotId : null;
  return { namespace, name, identifier: `${namespace}.${name}`, ref, snapshotId };
}

function fail(error: unknown): void {
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  Notification.error(text, { autoClose: 8000 });
}

export function addCommands(
  app: JupyterFrontEnd,
  model: ExplorerModel,
  tracker: INotebookTracker | null,
  panelId: string
): void {
  const { commands } = app;
  const hasTable = (args: ReadonlyPartialJSONObject) => model.ready && target(model, args) !== null;
  const onBranch = (args: ReadonlyPartialJSONObject) => {
    const t = target(model, args);
    return !model.readOnly && !!t && !!t.ref && t.ref !== 'main' && !t.snapshotId;
  };

  commands.addCommand(CommandIDs.open, {
    label: 'Open the Lakehouse Explorer',
    execute: () => app.shell.activateById(panelId)
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh the Lakehouse Explorer',
    execute: () => model.refresh()
  });

  commands.addCommand(CommandIDs.preview, {
    label: 'Preview Rows',
    isEnabled: hasTable,
    execute: async args => {
      const t = target(model, args);
      if (!t) {
        return;
      }
      if (!model.selection || model.selection.namespace !== t.namespace || model.selection.name !== t.name) {
        await model.select({ namespace: t.namespace, name: t.name, ref: t.ref }, 'preview');
      }
      await model.runPreview(t.snapshotId ? { snapshotId: t.snapshotId } : { ref: t.ref });
    }
  });

  commands.addCommand(CommandIDs.insertCell, {
    label: 'Insert a %%rat_sql Cell',
    caption: 'Insert a cell that queries this table into the active notebook',
    isEnabled: args => hasTable(args) && !!tracker?.currentWidget,
    execute: args => {
      const t = target(model, args);
      const panel = tracker?.currentWidget;
      if (!t || !panel) {
        Notification.warning('Open a notebook first: the cell goes into the active notebook.');
        return;
      }
      const notebook = panel.content;
      NotebookActions.insertBelow(notebook);
      NotebookActions.changeCellType(notebook, 'code');
      const cell = notebook.activeCell;
      if (cell) {
        cell.model.sharedModel.setSource(sqlCellText(t.identifier, { ref: t.ref, snapshotId: t.snapshotId }));
      }
      app.shell.activateById(panel.id);
    }
  });

  commands.addCommand(CommandIDs.copyReference, {
    label: 'Copy Reference',
    isEnabled: hasTable,
    execute: args => {
      const t = target(model, args);
      if (t) {
        const text = referenceText(t.identifier, { ref: t.ref, snapshotId: t.snapshotId });
        Clipboard.copyToSystem(text);
        Notification.info(`Copied ${text}`, { autoClose: 2500 });
      }
    }
  });

  commands.addCommand(CommandIDs.createBranch, {
    label: 'Create Branch…',
    isEnabled: args => hasTable(args) && !model.readOnly,
    execute: async args => {
      const t = target(model, args);
      if (!t) {
        return;
      }
      const from = t.snapshotId ? `snapshot ${t.snapshotId}` : t.ref ?? 'main';
      const answer = await InputDialog.getText({
        title: `New branch of ${t.identifier}`,
        label: `Branch name (created at the head of ${from})`,
        placeholder: 'dev-yourname'
      });
      if (!answer.button.accept || !answer.value) {
        return;
      }
      try {
        await model.api.createBranch(t.namespace, t.name, answer.value.trim(), {
          ref: t.ref ?? undefined,
          snapshotId: t.snapshotId ?? undefined
        });
        Notification.success(`Created branch ${answer.value} of ${t.identifier}`, { autoClose: 3000 });
        await model.refresh();
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.fastForward, {
    label: 'Fast-Forward main to This Branch…',
    isEnabled: onBranch,
    execute: async args => {
      const t = target(model, args);
      if (!t || !t.ref) {
        return;
      }
      const ok = await showDialog({
        title: `Fast-forward main of ${t.identifier}`,
        body: `Move main to the head of ${t.ref}? This works only when main has no snapshot that ${t.ref} lacks.`,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Fast-forward' })]
      });
      if (!ok.button.accept) {
        return;
      }
      try {
        const result = await model.api.fastForward(t.namespace, t.name, t.ref);
        Notification.success(result.changed ? `main now at ${t.ref}'s head` : `main already at ${t.ref}'s head`, {
          autoClose: 3000
        });
        await model.refresh();
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.dropBranch, {
    label: 'Drop Branch…',
    isEnabled: onBranch,
    execute: async args => {
      const t = target(model, args);
      if (!t || !t.ref) {
        return;
      }
      const ok = await showDialog({
        title: `Drop branch ${t.ref} of ${t.identifier}?`,
        body: 'The branch is removed; its snapshots stay until they expire.',
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Drop' })]
      });
      if (!ok.button.accept) {
        return;
      }
      try {
        await model.api.dropBranch(t.namespace, t.name, t.ref);
        Notification.success(`Dropped branch ${t.ref} of ${t.identifier}`, { autoClose: 3000 });
        await model.select({ namespace: t.namespace, name: t.name, ref: null });
        await model.refresh();
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.compact, {
    label: 'Compact Small Files…',
    caption: "Rewrite the selected table's small data files into files of the target size",
    isEnabled: () => model.ready && canCompact(model.detail, model.readOnly, !!model.compaction?.busy),
    execute: async () => {
      const detail = model.detail;
      if (!detail) {
        return;
      }
      const branch = detail.files_branch;
      const where = branch === 'main' ? detail.identifier : `${detail.identifier}@${branch}`;
      const ok = await showDialog({
        title: `Compact ${where}?`,
        body:
          ((detail.delete_files ?? 0) > 0
            ? `Apply the ${detail.delete_files} delete files of ${branch} (they remove ${detail.deleted_rows} rows) and ` +
              `rewrite the files they apply to, with the small files, `
            : `Rewrite the ${detail.small_files} small files of ${branch} (under ${formatBytes(detail.small_file_bytes)}) `) +
          `into files of about ${formatBytes(detail.target_file_bytes)}? This makes one new snapshot on ${branch}; ` +
          'the rows do not change. It can take a while on a large table.',
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Compact' })]
      });
      if (!ok.button.accept) {
        return;
      }
      await model.compact();
    }
  });
}
