import { describe, expect, it } from 'vitest';

import * as client from '../src/index.js';
import * as react from '../src/react.js';

describe('public surface', () => {
  it('exports exactly these values from the main entry', () => {
    expect(Object.keys(client).sort()).toEqual([
      'JobCancelledError',
      'JobError',
      'JobFailedError',
      'JobWaitTimeout',
      'JobWatchClosed',
      'PracticegenClient',
      'PracticegenError',
      'RequestTimeoutError',
      'createClient',
    ]);
  });

  it('exports only the hooks from the react entry', () => {
    expect(Object.keys(react).sort()).toEqual(['useAsyncPractice', 'useClassBatch']);
  });
});
