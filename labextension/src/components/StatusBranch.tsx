/** Status bar item: the ratatouille branch of the current notebook's kernel. */
import { ReactWidget } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

export interface IBranchSource {
  readonly branch: string | null;
  readonly changed: ISignal<unknown, void>;
}

function BranchLabel({ source }: { source: IBranchSource }): JSX.Element | null {
  const [branch, setBranch] = React.useState(source.branch);
  React.useEffect(() => {
    const update = () => setBranch(source.branch);
    source.changed.connect(update);
    return () => {
      source.changed.disconnect(update);
    };
  }, [source]);
  if (!branch) {
    return null;
  }
  const dev = branch !== 'main';
  return (
    <span
      className={`jp-RatStatus${dev ? ' jp-RatStatus-dev' : ''}`}
      title={`ratatouille: this notebook's kernel reads and writes branch ${branch}`}
    >
      rat ⎇ {branch}
    </span>
  );
}

export class StatusBranch extends ReactWidget {
  constructor(private readonly source: IBranchSource) {
    super();
    this.addClass('jp-RatStatus-item');
  }

  protected render(): JSX.Element {
    return <BranchLabel source={this.source} />;
  }
}
