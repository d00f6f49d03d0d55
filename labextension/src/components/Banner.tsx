/** The handshake message: shown instead of the tree when the server extension is missing or different. */
import * as React from 'react';

import { Handshake } from '../format';

export function Banner({ handshake }: { handshake: Handshake }): JSX.Element | null {
  if (handshake.state === 'error') {
    return (
      <div className="jp-RatExplorer-banner jp-RatExplorer-banner-error" role="alert">
        {handshake.message}
      </div>
    );
  }
  if (handshake.state === 'ok' && handshake.note) {
    return (
      <div className="jp-RatExplorer-banner" role="status">
        {handshake.note}
      </div>
    );
  }
  if (handshake.state === 'pending') {
    return <div className="jp-RatExplorer-empty">Connecting to the lakehouse…</div>;
  }
  return null;
}
