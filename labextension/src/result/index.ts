/**
 * Results with a Table | Chart toggle: a renderer of `application/vnd.ratatouille.result+json`, ranked
 * above `text/html` so that a `%%rat_sql` result shows through it.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { RESULT_MIME } from './chartSpec';
import { ResultRenderer } from './renderer';

/** Lower ranks win; JupyterLab's HTML renderer is 50, its Vega renderer 57. */
const RANK = 40;

const resultsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'ratatouille-jupyterlab:results',
  description: 'Query results with a Table | Chart toggle.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (_app: JupyterFrontEnd, registry: IRenderMimeRegistry) => {
    registry.addFactory(
      { safe: true, mimeTypes: [RESULT_MIME], defaultRank: RANK, createRenderer: () => new ResultRenderer(registry) },
      RANK
    );
  }
};

export default resultsPlugin;
