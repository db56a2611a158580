/**
 * @module lab/exec
 * The lab's and the quickstart's only way to start processes: short commands whose output is
 * collected (`cmd`), and long-lived daemons started detached so they outlive the quickstart
 * (`daemon`). A namespace is entered with `nsenter --net`, never `ip netns exec`: the latter also
 * remounts /sys in a new mount namespace, which hides the cgroup mounts runc needs.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { isAlive } from '../util/process.js';
import { sleep } from '../util/time.js';

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CmdOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Every output line, as it comes (for --verbose and the stage log). */
  onLine?: (line: string) => void;
}

/** cmd runs argv and resolves with its status and output; it never throws for a non-zero status. */
export function cmd(argv: string[], opts: CmdOptions = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file ?? '', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const partial = ['', ''];
    const lines = (sink: Buffer[], k: 0 | 1) => {
      return (b: Buffer): void => {
        sink.push(b);
        if (!opts.onLine) return;
        const parts = (partial[k] + b.toString('utf8')).split('\n');
        partial[k] = parts.pop() ?? '';
        for (const l of parts) opts.onLine(l);
      };
    };
    child.stdout.on('data', lines(out, 0));
    child.stderr.on('data', lines(err, 1));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: String(e) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A last line without a newline is still a line.
      for (const p of partial) if (p !== '') opts.onLine?.(p);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** must runs argv and throws LAB_FAILED (naming the command and its last output) unless it exits 0. */
export async function must(argv: string[], opts: CmdOptions = {}): Promise<string> {
  const r = await cmd(argv, opts);
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
    throw new AppError('LAB_FAILED', `${argv.join(' ')} failed (exit ${r.code})${tail ? `: ${tail}` : ''}`);
  }
  return r.stdout;
}

/** inNet prefixes argv so that it runs in a named network namespace (and nothing else changes). */
export function inNet(ns: string, argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${ns}`, ...argv];
}

/** daemon starts argv in its own session, detached, output appended to logFile; returns its pid. */
export function daemon(argv: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const [file, ...args] = argv;
  const child = spawn(file ?? '', args, { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  if (child.pid === undefined) throw new AppError('LAB_FAILED', `cannot start ${argv.join(' ')}`);
  return child.pid;
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

/** killAndWait sends SIGTERM, then SIGKILL after graceMs, and waits until the pid is gone. */
export async function killAndWait(pid: number, graceMs = 5000): Promise<void> {
  const gone = (): boolean => !isAlive(pid);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (!gone() && Date.now() < deadline) await sleep(50);
  if (!gone()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (!gone()) await sleep(20);
  }
}

export { sleep };

/** waitUntil polls fn until it returns true, or throws LAB_FAILED naming `what` after timeoutMs. */
export async function waitUntil(fn: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await sleep(100);
  }
  throw new AppError('LAB_FAILED', `${what} did not come up within ${timeoutMs / 1000} s`);
}
