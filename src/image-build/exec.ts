/**
 * @module image-build/exec
 * The one place `overcloud image build` starts processes (podman, mmdebstrap, apt). Output
 * is collected (and optionally streamed to a log file); a failure is a COMMAND_FAILED error naming
 * the command and the end of its output.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { AppError } from '../errors.js';

export interface ExecOptions {
  /** append combined output to this file as it arrives */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** exit codes that are not failures */
  okCodes?: readonly number[];
  cwd?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Keep at most this much of each stream in memory (builds print a lot; the log file has it all). */
const KEEP = 4 * 1024 * 1024;

function tail(s: string, lines: number): string {
  return s.trimEnd().split('\n').slice(-lines).join('\n');
}

/** execFile runs a command without a shell and resolves with its output. */
export function execFile(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = opts.logFile === undefined ? undefined : createWriteStream(opts.logFile, { flags: 'a' });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer): string => {
      const next = acc + chunk.toString('utf8');
      return next.length > KEEP ? next.slice(next.length - KEEP) : next;
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout = keep(stdout, c);
      log?.write(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = keep(stderr, c);
      log?.write(c);
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
          }, opts.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      log?.end();
      reject(new AppError('COMMAND_FAILED', `cannot run ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      log?.end();
      const status = code ?? 128;
      if (timedOut) {
        reject(new AppError('TIMEOUT', `${cmd} ${args.join(' ')} did not finish in ${opts.timeoutMs} ms`));
      } else if (status === 0 || opts.okCodes?.includes(status)) {
        resolve({ code: status, stdout, stderr });
      } else {
        reject(
          new AppError(
            'COMMAND_FAILED',
            `${cmd} ${args.slice(0, 3).join(' ')} ... failed (${signal ?? `exit ${status}`}): ${tail(stderr || stdout, 5)}`,
            { detail: { cmd, args, code: status, stdout, stderr } },
          ),
        );
      }
    });
  });
}

/** commandOutput is the full stdout+stderr kept in a COMMAND_FAILED error's detail. */
export function commandOutput(e: unknown): string {
  const detail = (e as { detail?: { stdout?: unknown; stderr?: unknown } }).detail;
  const out = typeof detail?.stdout === 'string' ? detail.stdout : '';
  const err = typeof detail?.stderr === 'string' ? detail.stderr : '';
  return `${out}\n${err}`;
}
