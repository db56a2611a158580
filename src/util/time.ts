/**
 * @module util/time
 * Waiting: Node's promise timer under the one name the tree uses.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** sleep resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => delay(ms);
