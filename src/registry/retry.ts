/**
 * @module registry/retry
 * Exponential back-off with full jitter, honouring a server's Retry-After.
 */

import { sleep } from '../util/time.js';
import { isRetryable, retryAfterOf } from './errors.js';
import type { RetryOptions } from './options.js';

/** backoffMs is the wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
  // Half fixed, half jitter: parallel workers hitting one busy registry spread out.
  return cap / 2 + random() * (cap / 2);
}

export { sleep } from '../util/time.js';

/** withRetry runs `op` until it succeeds, fails for good, or runs out of attempts. */
export async function withRetry<T>(
  opts: RetryOptions,
  op: (attempt: number) => Promise<T>,
  onRetry?: (e: unknown, attempt: number, waitMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (attempt >= opts.attempts || !isRetryable(e)) throw e;
      const wait = retryAfterOf(e) ?? backoffMs(attempt, opts);
      onRetry?.(e, attempt, wait);
      await sleep(wait);
    }
  }
}
