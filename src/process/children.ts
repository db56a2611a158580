/**
 * @module process/children
 * Processes that outlive one call: daemons started detached so they outlive this process (the lab's
 * sshd and registries), long-lived children spoken to over their pipes (validate's openstack
 * runners), and the pid checks and kills that go with them. A namespace is entered with
 * `nsenter --net`, never `ip netns exec`: the latter also remounts /sys in a new mount namespace,
 * which hides the cgroup mounts runc needs.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { isAlive } from '../util/process.js';

/** inNet prefixes argv so that it runs in a named network namespace (and nothing else changes). */
export function inNet(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${ns}`, ...argv];
}

/** startDaemon starts argv in its own session, detached, output appended to logFile; returns its pid. */
export function startDaemon(argv: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  try {
    const [file, ...args] = argv;
    const child = spawn(file ?? '', args, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // reported below as "cannot start": no pid
    child.unref();
    if (child.pid === undefined) throw new AppError('COMMAND_FAILED', `cannot start ${argv.join(' ')}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** A long-lived child whose stdin, stdout and stderr are pipes to this process. */
export type LongLivedChild = ChildProcessWithoutNullStreams;

/**
 * startChild starts a long-lived child with piped stdio that the caller talks to (and ends). It is
 * the only other way, besides runProcess, that the tool starts a process.
 */
export function startChild(argv: string[], opts: { env?: NodeJS.ProcessEnv } = {}): LongLivedChild {
  const [file, ...args] = argv;
  return spawn(file ?? '', args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** cmdlineOf is a process's command line (NUL-separated args joined by spaces), or undefined. */
export async function cmdlineOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** aliveWith: the pid runs and its command line contains `marker` (so a reused pid is not ours). */
export async function aliveWith(pid: number, marker: string): Promise<boolean> {
  const line = await cmdlineOf(pid);
  return line?.includes(marker) ?? false;
}

/** pidGone: no process has this pid (util/process's isAlive: EPERM means it exists). */
export function pidGone(pid: number): boolean {
  return !isAlive(pid);
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** killAndWait sends SIGTERM, then SIGKILL after graceMs, and waits until the pid is gone. */
export async function killAndWait(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (!pidGone(pid) && Date.now() < deadline) await pause(50);
  if (!pidGone(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (!pidGone(pid)) await pause(20);
  }
}
