// Build the prebuilt JupyterLab extension offline.
//
// @jupyterlab/builder reads JupyterLab's core metadata from `<core path>/package.json`. The
// @jupyterlab/core-meta devDependency ships that data as `core.package.json` (next to its own npm
// manifest), so it is copied to a folder of its own under node_modules/.cache first; nothing is
// downloaded. Arguments (e.g. --development) are passed on to build-labextension.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const coreMeta = require.resolve('@jupyterlab/core-meta/core.package.json');
const corePath = join('node_modules', '.cache', 'ratatouille-core-meta');
mkdirSync(corePath, { recursive: true });
copyFileSync(coreMeta, join(corePath, 'package.json'));

const builder = join(dirname(require.resolve('@jupyterlab/builder/package.json')), 'lib', 'build-labextension.js');
const result = spawnSync(process.execPath, [builder, '--core-path', corePath, ...process.argv.slice(2), '.'], {
  stdio: 'inherit'
});
if (result.status === 0) {
  // install.json tells `jupyter labextension list` which Python package provides the extension; it
  // travels inside the built folder, which the wheel ships as a whole.
  const output = join('..', 'ratatouille_jupyter', 'labextension');
  mkdirSync(output, { recursive: true });
  copyFileSync('install.json', join(output, 'install.json'));
}
process.exit(result.status ?? 1);
