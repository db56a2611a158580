/**
 * @module server/bcrypt-worker
 * bcrypt off the event loop: one worker thread runs bcryptjs's synchronous compare, so a check
 * (tens of ms in JavaScript at cost 10) never delays another request. The worker's code is a
 * short script evaluated from a string, which loads bcryptjs by its resolved path: it works the
 * same from the compiled tree and from the esbuild bundle, with no extra file to ship.
 */

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', (m) => {
  try {
    const value = m.op === 'hash' ? bcrypt.hashSync(m.password, m.cost) : bcrypt.compareSync(m.password, m.hash);
    parentPort.postMessage({ id: m.id, value });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});
`;

type Job = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** BcryptWorker runs compare and hash on one worker thread, in order; unref'd so it never holds the process. */
export class BcryptWorker {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  /** How many checks are waiting or running. */
  get pending(): number {
    return this.jobs.size;
  }

  private start(): Worker {
    const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath } });
    w.unref();
    w.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const job = this.jobs.get(m.id);
      if (job === undefined) return;
      this.jobs.delete(m.id);
      if (m.error !== undefined) job.reject(new AppError('INTERNAL', `password check failed: ${m.error}`));
      else job.resolve(m.value);
    });
    const fail = (e: Error): void => {
      this.worker = undefined;
      for (const job of this.jobs.values()) job.reject(e);
      this.jobs.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new AppError('INTERNAL', `bcrypt worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private run(message: Record<string, unknown>): Promise<unknown> {
    const w = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      w.postMessage({ ...message, id });
    });
  }

  /** compare tells whether `password` matches a bcrypt hash. */
  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash })) === true;
  }

  /** hash makes a bcrypt hash at `cost` rounds. */
  async hash(password: string, cost: number): Promise<string> {
    return String(await this.run({ op: 'hash', password, cost }));
  }

  /** close stops the thread. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
