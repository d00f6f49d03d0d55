/** Shared test fixtures: the handshake a server of this sidebar's version answers. */
import type { IVersion } from '../src/api';
import { API_VERSION, FRONTEND_VERSION } from '../src/version';

export function serverVersion(extra: Partial<IVersion> = {}): IVersion {
  return {
    name: 'ratatouille',
    version: FRONTEND_VERSION,
    api_version: API_VERSION,
    poll_interval_ms: 0,
    preview_max_rows: 500,
    max_page_size: 1000,
    read_only: false,
    ...extra
  };
}
