/**
 * @module lab/wait
 * Waiting for something the lab started to answer.
 */
import { AppError } from '../errors.js';

const POLL_MS = 100;

/** waitUntil polls fn until it returns true, or throws LAB_FAILED naming `what` after timeoutMs. */
export async function waitUntil(fn: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new AppError('LAB_FAILED', `${what} did not come up within ${timeoutMs / 1000} s`);
}
