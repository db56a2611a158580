/**
 * @module image-build/lock
 * One build per cache folder at a time: a second run would refresh the apt lists that the first
 * run's builds are reading. The lock is a file holding the owner's pid; a lock whose process is
 * gone (a killed run) is taken over.
 */
import { open, rm } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { readTextOr } from '../util/fs.js';
import { isAlive } from '../util/process.js';
import { sleep } from '../util/time.js';

async function tryLock(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = Number((await readTextOr(path, '')).trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return false;
    // The owner is gone (or the file is half-written by a dead run): take it over.
    await rm(path, { force: true });
    return tryLock(path);
  }
}

/** withLock runs fn holding the lock file, waiting up to waitMs for another run to finish. */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { waitMs: number; pollMs?: number; onWait?: (holder: string) => void },
): Promise<T> {
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  while (!(await tryLock(path))) {
    if (Date.now() > deadline) {
      const holder = (await readTextOr(path, '?')).trim();
      throw new AppError('TIMEOUT', `another image build (pid ${holder}) still holds ${path}`, {
        hint: 'wait for it to finish, or remove the file if that process is not an image build',
      });
    }
    if (!told) {
      opts.onWait?.((await readTextOr(path, '?')).trim());
      told = true;
    }
    await sleep(opts.pollMs ?? 2000);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
