/**
 * @module util/concurrency
 * Bounded parallelism without a dependency: `mapLimit` over a list, and a `limiter` for tasks queued
 * over time (the upload executor).
 */

/** mapLimit runs fn over items with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Limiter runs a task when one of its slots is free; tasks start in the order they were queued. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** limiter is a counting semaphore: at most `n` tasks run at once, first come first served. */
export function limiter(n: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
