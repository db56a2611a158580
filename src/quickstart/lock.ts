/**
 * @module quickstart/lock
 * One quickstart per lab at a time. A run (and `--teardown`) holds an exclusive flock(2) lock on
 * two files under /run/lock/overcloud-quickstart: one named after the lab's name (namespaces,
 * interfaces and /run/<name> derive from it) and one after its folder (lab.json, keys, registry).
 * A second quickstart on the same lab fails at once with QUICKSTART_LOCKED (exit 75).
 *
 * Why flock and not a pid file: the kernel drops a flock lock when the last descriptor of the open
 * file goes away, so a run killed with SIGKILL (or a crashed host process) never leaves a lock that
 * blocks; a pid file would need a liveness check that a reused pid can fool. Node has no flock(), so
 * util-linux's `flock -n FD` locks the descriptor we pass it as its fd 3: the lock belongs to the
 * open file description, which this process keeps open after flock(1) exits. Node opens files with
 * O_CLOEXEC, so the daemons a run starts (sshd, registries) never inherit it and never keep it.
 *
 * The files stay after the run: removing a lock file races with a process that opened it and is about
 * to lock it (both would then "hold" a lock, on different files). Holders write their pid into the
 * file, in place (a rename would swap the inode under the lock), so a refused run can name them.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../errors.js';
import type { QuickstartConfig } from '../lab/index.js';
import { runSync } from '../process/index.js';
import { readTextOrSync } from '../util/fs.js';

/** Where the lock files live: /run/lock is a tmpfs, so a reboot starts with none. */
export const LOCK_DIR = '/run/lock/overcloud-quickstart';

/** flock(1)'s exit status when the lock is taken (-E), distinct from its own failures. */
const FLOCK_BUSY = 75;

export interface LabLock {
  files: string[];
  /** release unlocks now (the kernel also does it when this process exits, however it exits). */
  release(): void;
}

/** lockFiles names the lab's lock files: by lab name and by lab folder. */
export function lockFiles(config: QuickstartConfig, dir = LOCK_DIR): string[] {
  const dirKey = createHash('sha256').update(config.lab.dir).digest('hex').slice(0, 12);
  const readable = basename(config.lab.dir).replace(/[^A-Za-z0-9._-]/g, '_');
  return [join(dir, `lab-${config.lab.name}.lock`), join(dir, `dir-${readable}-${dirKey}.lock`)];
}

/** holderOf reads what the holder wrote: `pid=N config=PATH since=ISO` (empty while it starts). */
export function holderOf(file: string): { pid?: number; text: string } {
  // Vanished: the message says "unknown".
  const text = readTextOrSync(file, '').trim();
  const m = /pid=(\d+)/.exec(text);
  return m ? { pid: Number(m[1]), text } : { text };
}

/** openLockFile opens (creating) a lock file; a non-root user gets told why it cannot. */
function openLockFile(file: string, dir: string, release: () => void): number {
  try {
    mkdirSync(dir, { recursive: true });
    return openSync(file, constants.O_RDWR | constants.O_CREAT, 0o644);
  } catch (e) {
    release();
    throw new AppError('LAB_FAILED', `cannot open the lab's lock file ${file}: ${(e as Error).message}`, {
      hint: 'the quickstart runs as root (namespaces, routes, podman, and its locks in /run/lock)',
      cause: e,
    });
  }
}

function tryLock(fd: number, file: string): boolean {
  const r = runSync(['flock', '-n', '-x', '-E', String(FLOCK_BUSY), '3'], {
    passFds: [fd],
    timeoutMs: 10_000,
  });
  if (r.code === 0) return true;
  if (r.code === FLOCK_BUSY) return false;
  const why = r.stderr.trim() || (r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`);
  throw new AppError('LAB_FAILED', `cannot lock ${file} with flock(1): ${why}`, {
    hint: 'flock comes with util-linux (Debian: always installed); run ./scripts/setup-host.sh',
  });
}

/**
 * acquireLabLock takes the lab's locks or throws QUICKSTART_LOCKED naming the config, the lock file
 * and the pid that holds it. `what` says what this run is (written for the next one to read).
 */
export function acquireLabLock(config: QuickstartConfig, what: string, dir = LOCK_DIR): LabLock {
  const fds: number[] = [];
  const release = (): void => {
    for (const fd of fds.splice(0)) closeSync(fd);
  };
  const files = lockFiles(config, dir);
  for (const file of files) {
    const fd = openLockFile(file, dir, release);
    let locked = false;
    try {
      locked = tryLock(fd, file);
    } catch (e) {
      closeSync(fd);
      release();
      throw e;
    }
    if (!locked) {
      closeSync(fd);
      release();
      const h = holderOf(file);
      const who =
        h.pid !== undefined ? `pid ${h.pid}` : 'a process that is just starting (no pid written yet)';
      throw new AppError(
        'QUICKSTART_LOCKED',
        `another quickstart is running on lab '${config.lab.name}' (${config.lab.dir}) of config ${config.path}: ${who} holds ${file}${h.text ? ` (${h.text})` : ''}`,
        {
          hint: `wait for it to finish, or stop it${h.pid !== undefined ? ` (kill ${h.pid})` : ''} and run again; a killed run's lock is released by the kernel, nothing needs removing`,
          detail: { file, pid: h.pid },
        },
      );
    }
    fds.push(fd);
    // In place, not atomically: the lock is on this inode (see the module comment).
    ftruncateSync(fd, 0);
    writeSync(fd, `pid=${process.pid} config=${config.path} ${what} since=${new Date().toISOString()}\n`, 0);
  }
  return { files, release };
}
