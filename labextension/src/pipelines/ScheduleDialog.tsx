/**
 * "Ratatouille: schedule this notebook": a dialog for the cron schedule, time zone, parameters, retries
 * and timeout, written to the notebook's `ratatouille.pipeline` metadata (then the notebook is saved).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formFromSettings, IScheduleForm, settingsFromForm } from './form';
import { IPipelineSettings } from './metadata';

const FIELDS: { key: keyof IScheduleForm; label: string; placeholder: string; help: string }[] = [
  { key: 'schedule', label: 'Schedule (cron)', placeholder: '0 6 * * *', help: 'Empty: manual runs only.' },
  { key: 'timezone', label: 'Time zone', placeholder: 'UTC', help: 'An IANA name, e.g. Europe/Paris.' },
  {
    key: 'parameters',
    label: 'Parameters (JSON)',
    placeholder: '{"day": "2024-06-01"}',
    help: 'Values for the cell tagged "parameters" in scheduled runs.'
  },
  { key: 'retries', label: 'Retries', placeholder: '0', help: 'Extra attempts after a failed run.' },
  { key: 'retry_delay', label: 'Retry delay (s)', placeholder: '0', help: 'Seconds between attempts.' },
  { key: 'timeout', label: 'Timeout (s)', placeholder: 'none', help: 'Seconds one attempt may take.' }
];

export function ScheduleFormView({
  initial,
  onChange
}: {
  initial: IScheduleForm;
  onChange: (f: IScheduleForm) => void;
}): JSX.Element {
  const [form, setForm] = React.useState(initial);
  const update = (key: keyof IScheduleForm, value: string) => {
    const next = { ...form, [key]: value };
    setForm(next);
    onChange(next);
  };
  const problem = (() => {
    const result = settingsFromForm(form);
    return typeof result === 'string' ? result : null;
  })();
  return (
    <form className="jp-RatPipelineForm" onSubmit={e => e.preventDefault()}>
      {FIELDS.map(f => (
        <label key={f.key} style={{ display: 'block', marginBottom: 8 }}>
          <span style={{ display: 'block', fontWeight: 600 }}>{f.label}</span>
          <input
            className="jp-mod-styled"
            style={{ width: '100%', boxSizing: 'border-box' }}
            value={form[f.key]}
            placeholder={f.placeholder}
            aria-label={f.label}
            onChange={e => update(f.key, e.target.value)}
          />
          <span style={{ fontSize: 'var(--jp-ui-font-size0)', color: 'var(--jp-ui-font-color2)' }}>{f.help}</span>
        </label>
      ))}
      <p role="alert" style={{ color: 'var(--jp-error-color1)', minHeight: '1.2em', margin: 0 }}>
        {problem ?? ''}
      </p>
    </form>
  );
}

class ScheduleBody extends ReactWidget implements Dialog.IBodyWidget<IScheduleForm> {
  constructor(private form: IScheduleForm) {
    super();
  }

  getValue(): IScheduleForm {
    return this.form;
  }

  protected render(): JSX.Element {
    return <ScheduleFormView initial={this.form} onChange={f => (this.form = f)} />;
  }
}

/** What the user chose: settings to write, `null` to unmark the notebook, or `undefined` (cancelled). */
export async function askSchedule(
  name: string,
  current: IPipelineSettings | null
): Promise<IPipelineSettings | null | undefined> {
  let form = formFromSettings(current);
  for (;;) {
    const buttons = [Dialog.cancelButton(), Dialog.okButton({ label: current ? 'Save' : 'Make it a pipeline' })];
    if (current) {
      buttons.splice(1, 0, Dialog.warnButton({ label: 'Not a pipeline' }));
    }
    const result = await showDialog({ title: `Schedule ${name}`, body: new ScheduleBody(form), buttons });
    if (!result.button.accept) {
      return undefined;
    }
    if (result.button.displayType === 'warn') {
      return null;
    }
    form = result.value ?? form;
    const settings = settingsFromForm(form, current?.keep_failed_days);
    if (typeof settings !== 'string') {
      return settings;
    }
    await showDialog({ title: 'Cannot schedule the notebook', body: settings, buttons: [Dialog.okButton()] });
  }
}
