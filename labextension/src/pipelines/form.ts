/** The schedule dialog's form as plain data (no JupyterLab import: unit-tested in Node). */
import { cronProblem, DEFAULTS, IPipelineSettings } from './metadata';

/** What the form holds, as typed text. */
export interface IScheduleForm {
  schedule: string;
  timezone: string;
  parameters: string;
  retries: string;
  retry_delay: string;
  timeout: string;
}

export function formFromSettings(settings: IPipelineSettings | null): IScheduleForm {
  const s = settings ?? DEFAULTS;
  return {
    schedule: s.schedule ?? '',
    timezone: s.timezone || 'UTC',
    parameters: Object.keys(s.parameters ?? {}).length ? JSON.stringify(s.parameters) : '',
    retries: String(s.retries ?? 0),
    retry_delay: String(s.retry_delay ?? 0),
    timeout: s.timeout ? String(s.timeout) : ''
  };
}

/** The settings of a filled form, or the first problem found. */
export function settingsFromForm(
  form: IScheduleForm,
  keepFailedDays = DEFAULTS.keep_failed_days
): IPipelineSettings | string {
  const problem = cronProblem(form.schedule);
  if (problem) {
    return `Schedule: ${problem}`;
  }
  let parameters: Record<string, unknown> = {};
  if (form.parameters.trim()) {
    try {
      parameters = JSON.parse(form.parameters);
    } catch {
      return 'Parameters: write a JSON object, for example {"day": "2024-06-01"}';
    }
    if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) {
      return 'Parameters: write a JSON object, for example {"day": "2024-06-01"}';
    }
  }
  const number = (label: string, text: string, integer: boolean): number | string => {
    const value = Number(text || '0');
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
      return `${label}: expected ${integer ? 'a whole number' : 'a number'} of 0 or more`;
    }
    return value;
  };
  const retries = number('Retries', form.retries, true);
  const delay = number('Retry delay', form.retry_delay, false);
  const timeout = number('Timeout', form.timeout, false);
  for (const v of [retries, delay, timeout]) {
    if (typeof v === 'string') {
      return v;
    }
  }
  return {
    schedule: form.schedule.trim() ? form.schedule.trim().split(/\s+/).join(' ') : null,
    timezone: form.timezone.trim() || 'UTC',
    parameters,
    retries: retries as number,
    retry_delay: delay as number,
    timeout: (timeout as number) > 0 ? (timeout as number) : null,
    keep_failed_days: keepFailedDays
  };
}

/** Whether a notebook path (relative to the Jupyter root) is in the pipelines folder (null: unknown). */
export function inPipelinesDir(path: string, relativeDir: string | null): boolean | null {
  if (relativeDir === null) {
    return null;
  }
  const dir = relativeDir.replace(/^\.?\/*/, '').replace(/\/+$/, '');
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}
