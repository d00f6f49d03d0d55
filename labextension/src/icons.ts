/** The sidebar's icon: a rat's head, themed through JupyterLab's icon classes. */
import { LabIcon } from '@jupyterlab/ui-components';

const RAT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <circle cx="6" cy="6.5" r="4"/>
    <circle cx="18" cy="6.5" r="4"/>
    <path d="M12 5.5c-4.4 0-7.5 3.6-7.5 7.6 0 3 2.1 5.3 4.6 6.5L12 22l2.9-2.4c2.5-1.2 4.6-3.5 4.6-6.5 0-4-3.1-7.6-7.5-7.6z"/>
  </g>
  <g class="jp-icon-contrast0" fill="#fff">
    <circle cx="9.3" cy="12.2" r="1.2"/>
    <circle cx="14.7" cy="12.2" r="1.2"/>
  </g>
</svg>`;

export const ratIcon = new LabIcon({ name: 'ratatouille:rat', svgstr: RAT_SVG });
