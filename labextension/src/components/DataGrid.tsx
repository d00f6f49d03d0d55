/** The preview grid: a plain, accessible table with a sticky header, types in tooltips. */
import * as React from 'react';

import { IPreview } from '../api';
import { cellText, isNumeric } from '../format';

export interface IDataGridProps {
  preview: IPreview;
}

export function DataGrid({ preview }: IDataGridProps): JSX.Element {
  return (
    <div className="jp-RatGrid-scroll" tabIndex={0} aria-label="Preview rows">
      <table className="jp-RatGrid">
        <thead>
          <tr>
            <th scope="col" className="jp-RatGrid-index">
              #
            </th>
            {preview.columns.map(c => (
              <th scope="col" key={c.name} title={c.type}>
                {c.name}
                <span className="jp-RatGrid-type">{c.type}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {preview.rows.map((row, i) => (
            <tr key={i}>
              <td className="jp-RatGrid-index">{i + 1}</td>
              {row.map((value, j) => (
                <td
                  key={j}
                  className={
                    (value === null ? 'jp-RatGrid-null ' : '') +
                    (isNumeric(preview.columns[j]?.type ?? '') ? 'jp-RatGrid-num' : '')
                  }
                >
                  {cellText(value)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {preview.rows.length === 0 && <p className="jp-RatExplorer-empty">The table has no rows here.</p>}
    </div>
  );
}
