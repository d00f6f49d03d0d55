/** The toolbar over a result: Table | Chart, and the chart's kind and columns. */
import * as React from 'react';

import { ChartKind, IChartChoice, IResultSample, kindsFor } from './chartSpec';

export type ResultMode = 'table' | 'chart';

export interface IResultToolbarProps {
  sample: IResultSample;
  mode: ResultMode;
  choice: IChartChoice;
  onMode: (mode: ResultMode) => void;
  onChoice: (choice: IChartChoice) => void;
}

function Picker(props: {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-RatResult-picker">
      {props.label}
      <select value={props.value} aria-label={props.label} onChange={e => props.onChange(e.target.value)}>
        {props.options.map(o => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ResultToolbar({ sample, mode, choice, onMode, onChoice }: IResultToolbarProps): JSX.Element {
  const columns = sample.columns.map(c => ({ value: c.name, label: c.name }));
  const numbers = sample.columns.filter(c => c.vl === 'quantitative').map(c => ({ value: c.name, label: c.name }));
  const set = (patch: Partial<IChartChoice>) => onChoice({ ...choice, ...patch });
  const yOptions =
    choice.kind === 'scatter' ? columns : [{ value: '', label: '(count rows)' }, ...numbers];
  return (
    <div className="jp-RatResult-toolbar" role="toolbar" aria-label="Result view">
      <div className="jp-RatResult-toggle" role="group" aria-label="Show as">
        {(['table', 'chart'] as const).map(m => (
          <button
            key={m}
            type="button"
            className="jp-RatResult-mode"
            aria-pressed={mode === m}
            onClick={() => onMode(m)}
          >
            {m === 'table' ? 'Table' : 'Chart'}
          </button>
        ))}
      </div>
      {mode === 'chart' && (
        <>
          <Picker
            label="Kind"
            value={choice.kind}
            options={kindsFor(sample).map(k => ({ value: k, label: k }))}
            onChange={v => set({ kind: v as ChartKind })}
          />
          <Picker label="x" value={choice.x} options={choice.kind === 'histogram' ? numbers : columns} onChange={v => set({ x: v })} />
          {choice.kind !== 'histogram' && <Picker label="y" value={choice.y} options={yOptions} onChange={v => set({ y: v })} />}
          <Picker
            label="Color"
            value={choice.color}
            options={[{ value: '', label: '(none)' }, ...columns]}
            onChange={v => set({ color: v })}
          />
        </>
      )}
    </div>
  );
}
