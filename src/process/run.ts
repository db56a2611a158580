/**
 * @module process/run
 * Short commands: run argv (no shell), feed stdin, collect the END of stdout and stderr (a stated
 * cap per stream: a failing build or playbook prints its reason last), time it out, and answer with
 * one value, `ProcessResult`. A non-zero exit is not a throw here: the caller decides what it means
 * (see ./error.ts for the throwing variant).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Each stream keeps at most its last 8 MiB in memory; what came before is counted, not kept. */
export const OUTPUT_TAIL_BYTES = 8 * 1024 * 1024;
/** Every call has a time-out: 10 minutes unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** A process that cannot start (not installed, not executable) answers like a shell would. */
export const EXIT_CANNOT_START = 127;
/**
 * After the process exits, wait this long for its pipes to close. `ssh -f` (a ControlPersist master)
 * leaves a daemon holding them open; it must not hold up the caller.
 */
const PIPE_GRACE_MS = 200;

export interface ProcessResult {
  argv: string[];
  /** Exit status; null when killed by a signal (a time-out included). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last `tailBytes` of stdout (UTF-8). */
  stdout: string;
  /** The last `tailBytes` of stderr (UTF-8); a process that could not start has the reason here. */
  stderr: string;
  /** Bytes dropped from the start of each stream to keep its tail within the cap. */
  dropped: { stdout: number; stderr: number };
  durationMs: number;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed (ignored with `stdin: 'inherit'`). */
  input?: string | Buffer;
  /** `inherit`: the child reads our terminal (ssh with a tty, so Ctrl-C reaches the remote side). */
  stdin?: 'pipe' | 'inherit';
  /** Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Signal sent at the time-out (default SIGKILL; SIGTERM lets a tool like mmdebstrap clean up). */
  timeoutSignal?: NodeJS.Signals;
  /** Each complete stdout line as it arrives (the last one even without a newline). */
  onLine?: (line: string) => void;
  /** Each complete stderr line as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Every stdout chunk as it arrives, uncut (binary output such as a tar stream). */
  onStdout?: (chunk: Buffer) => void;
  /** Pass the output through to this process's stdout and stderr as it comes. */
  echo?: boolean;
  /** Append both streams, uncut, to this file as they arrive. */
  logFile?: string;
  cwd?: string;
  /** Added to the environment (`baseEnv`, else this process's). */
  env?: Record<string, string>;
  /** The environment to start from instead of this process's (e.g. one without OS_* variables). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Per-stream cap of the kept tail (default OUTPUT_TAIL_BYTES). */
  tailBytes?: number;
}

/** A Runner runs one command: injected where tests replace processes with answers. */
export type Runner = (argv: string[], opts?: RunOptions) => Promise<ProcessResult>;

/** TailBuffer keeps the last `cap` bytes written to it and counts the bytes it let go. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly cap: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.cap) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  /** text decodes the tail; a character cut in two at the start is skipped, not garbled. */
  text(): string {
    let b = Buffer.concat(this.chunks);
    if (this.dropped > 0) {
      let i = 0;
      // UTF-8 continuation bytes are 10xxxxxx: skip them up to the next character's start.
      while (i < b.length && i < 4 && ((b[i] as number) & 0xc0) === 0x80) i++;
      b = b.subarray(i);
    }
    return b.toString('utf8');
  }
}

/** lineSplitter calls `emit` per complete line; `flush` emits a last line without a newline. */
function lineSplitter(emit: ((line: string) => void) | undefined) {
  let partial = '';
  return {
    push(b: Buffer): void {
      if (!emit) return;
      const parts = (partial + b.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) emit(l);
    },
    flush(): void {
      if (emit && partial !== '') emit(partial);
      partial = '';
    },
  };
}

function environment(opts: RunOptions): NodeJS.ProcessEnv {
  const base = opts.baseEnv ?? process.env;
  return opts.env === undefined ? base : { ...base, ...opts.env };
}

/** runProcess runs argv[0] with argv[1..] (no shell) and resolves with its result; it never throws. */
export const runProcess: Runner = (argv, opts = {}) =>
  new Promise((resolve) => {
    const started = Date.now();
    const [file, ...args] = argv;
    const cap = opts.tailBytes ?? OUTPUT_TAIL_BYTES;
    const out = new TailBuffer(cap);
    const err = new TailBuffer(cap);
    const outLines = lineSplitter(opts.onLine);
    const errLines = lineSplitter(opts.onStderrLine);
    let log: WriteStream | undefined;
    const child = spawn(file ?? '', args, {
      stdio: [opts.stdin === 'inherit' ? 'inherit' : 'pipe', 'pipe', 'pipe'],
      env: environment(opts),
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    // Both are pipes (see stdio above); only stdin may be inherited.
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    if (opts.logFile !== undefined) {
      log = createWriteStream(opts.logFile, { flags: 'a' });
      log.on('error', () => {}); // a log that cannot be written must not crash the run
    }
    let timedOut = false;
    let done = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill(opts.timeoutSignal ?? 'SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    stdout.on('data', (b: Buffer) => {
      out.push(b);
      outLines.push(b);
      opts.onStdout?.(b);
      log?.write(b);
      if (opts.echo) process.stdout.write(b);
    });
    stderr.on('data', (b: Buffer) => {
      err.push(b);
      errLines.push(b);
      log?.write(b);
      if (opts.echo) process.stderr.write(b);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outLines.flush();
      errLines.flush();
      stdout.destroy();
      stderr.destroy();
      const result: ProcessResult = {
        argv,
        code,
        signal,
        timedOut,
        stdout: out.text(),
        stderr: err.text(),
        dropped: { stdout: out.dropped, stderr: err.dropped },
        durationMs: Date.now() - started,
      };
      // The log file holds everything once the caller has the result (a reader right after the
      // call used to find its last writes missing); an unwritable log ends the wait too.
      if (log === undefined) resolve(result);
      else {
        log.once('error', () => resolve(result));
        log.end(() => resolve(result));
      }
    };
    child.on('error', (e) => {
      err.push(Buffer.from(`cannot run ${file}: ${e.message}`));
      finish(EXIT_CANNOT_START, null);
    });
    child.on('exit', (code, signal) => {
      const grace = setTimeout(() => finish(code, signal), PIPE_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        finish(code, signal);
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a process that exits without reading stdin is not our error
      child.stdin.end(opts.input ?? '');
    }
  });

/**
 * runSync runs a short command synchronously, handing it open descriptors: `passFds[i]` becomes the
 * child's fd 3+i (flock(1) locks a descriptor we keep). Output is capped as in runProcess.
 */
export function runSync(
  argv: string[],
  opts: { passFds?: number[]; timeoutMs?: number } = {},
): ProcessResult {
  const started = Date.now();
  const [file, ...args] = argv;
  const r = spawnSync(file ?? '', args, {
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.passFds ?? [])],
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: OUTPUT_TAIL_BYTES,
  });
  const tail = (b: Buffer | null): TailBuffer => {
    const t = new TailBuffer(OUTPUT_TAIL_BYTES);
    if (b) t.push(b);
    return t;
  };
  const out = tail(r.stdout);
  const err = tail(r.stderr);
  const cannotStart = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT';
  if (r.error && !cannotStart && r.signal === null) err.push(Buffer.from(String(r.error)));
  return {
    argv,
    code: cannotStart ? EXIT_CANNOT_START : r.status,
    signal: r.signal,
    timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT',
    stdout: out.text(),
    stderr: cannotStart ? `cannot run ${file}: ${r.error?.message}` : err.text(),
    dropped: { stdout: out.dropped, stderr: err.dropped },
    durationMs: Date.now() - started,
  };
}
