/**
 * @module validate/poll
 * What every check shares: failing with VALIDATE_FAILED, and waiting for a state with a deadline
 * (each try is an openstack call or a connection, so a short pause between two is enough).
 */
import { AppError } from '../errors.js';
import { sleep } from '../util/time.js';

export const fail = (msg: string): never => {
  throw new AppError('VALIDATE_FAILED', msg);
};

/** poll retries fn until it returns a value; past the deadline it fails with the last error seen. */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
  pauseMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline)
      return fail(`${what} not reached in ${timeoutMs / 1000} s${last ? `: ${last}` : ''}`);
    await sleep(pauseMs);
  }
}
