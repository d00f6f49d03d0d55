/** Re-render a component whenever the explorer model changes. */
import * as React from 'react';

import { ExplorerModel } from '../model';

export function useModel(model: ExplorerModel): ExplorerModel {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const onChange = () => setTick(t => t + 1);
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return model;
}
