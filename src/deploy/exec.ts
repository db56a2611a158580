/**
 * @module deploy/exec
 * The only place in deploy that starts processes (podman, ssh, sh). It is injected as a `Runner`, so
 * planner, diff and apply tests can run without podman. Output is capped, every call has a time-out,
 * and the result is a value (never a throw) so callers decide what a non-zero exit means.
 */
import { spawn } from 'node:child_process';

export interface ProcessResult {
  argv: string[];
  /** Exit status, or null when killed by a signal (time-out included). */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. */
  input?: string;
  timeoutMs?: number;
  /** Each complete stdout line as it arrives (progress of long commands such as ansible-playbook). */
  onLine?: (line: string) => void;
  /** Working folder of the process. */
  cwd?: string;
  /** Added to (not replacing) this process's environment. */
  env?: Record<string, string>;
}

export type Runner = (argv: string[], opts?: RunOptions) => Promise<ProcessResult>;

/** Output beyond this is dropped from the middle: the start and the end are what people read. */
const MAX_OUTPUT = 8 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/**
 * After the process exits, wait this long for its pipes to close. `ssh -f` (the ControlPersist master)
 * leaves a daemon holding them open; it must not hold up the caller.
 */
const PIPE_GRACE_MS = 200;

function collector(): { push(b: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  return {
    push(b) {
      if (size + b.length <= MAX_OUTPUT) {
        chunks.push(b);
        size += b.length;
      } else dropped += b.length;
    },
    text() {
      const t = Buffer.concat(chunks).toString('utf8');
      return dropped ? `${t}\n[... ${dropped} bytes of output dropped]` : t;
    },
  };
}

/** spawnRunner runs argv[0] with argv[1..] (no shell) and collects its output. */
export const spawnRunner: Runner = (argv, opts = {}) =>
  new Promise((resolve) => {
    const started = Date.now();
    const [cmd, ...args] = argv;
    const out = collector();
    const err = collector();
    const child = spawn(cmd ?? '', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }),
    });
    let timedOut = false;
    let done = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let partial = '';
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      if (!opts.onLine) return;
      const lines = (partial + b.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onLine(l);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const finish = (code: number | null, signal: string | null): void => {
      if (done) return;
      done = true;
      if (partial !== '') opts.onLine?.(partial);
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        argv,
        code,
        signal,
        timedOut,
        stdout: out.text(),
        stderr: err.text(),
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (e) => {
      err.push(Buffer.from(String(e)));
      finish(127, null);
    });
    child.on('exit', (code, signal) => {
      const grace = setTimeout(() => finish(code, signal), PIPE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        finish(code, signal);
      });
    });
    child.stdin.on('error', () => {}); // a process that exits without reading stdin is not our error
    child.stdin.end(opts.input ?? '');
  });

/** describeFailure is a one-line account of a failed process for error messages. */
export function describeFailure(r: ProcessResult): string {
  const why = r.timedOut ? 'timed out' : r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`;
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
  return `${why}${text ? `: ${text}` : ''}`;
}
