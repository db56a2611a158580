/**
 * @module test/support/process-result
 * A process result as a fake node or runner answers it: exit 0 with the given stdout.
 */
import type { ProcessResult } from '../../src/process/index.js';

/** okResult is a successful ProcessResult whose stdout is `stdout`. */
export const okResult = (stdout = ''): ProcessResult => ({
  argv: [],
  code: 0,
  signal: null,
  timedOut: false,
  stdout,
  stderr: '',
  dropped: { stdout: 0, stderr: 0 },
  durationMs: 1,
});
