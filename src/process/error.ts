/**
 * @module process/error
 * A failed process as a typed error: `ProcessError` is an AppError whose code is stable
 * (COMMAND_FAILED, TIMEOUT for a time-out, or the caller's own code such as LAB_FAILED) and that
 * carries the whole ProcessResult, so a catcher can read the output's tail without parsing text.
 */
import { AppError, type ErrorCode } from '../errors.js';
import { type ProcessResult, type RunOptions, runProcess } from './run.js';

/** Lines of output quoted in a one-line failure account. */
const QUOTED_LINES = 5;

/** describeFailure is a one-line account of a failed process: why it ended and its last lines. */
export function describeFailure(r: ProcessResult): string {
  const why = r.timedOut
    ? `timed out after ${(r.durationMs / 1000).toFixed(1)} s`
    : r.code === null
      ? `killed by ${r.signal}`
      : `exit ${r.code}`;
  const text = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-QUOTED_LINES).join(' | ');
  return `${why}${text ? `: ${text}` : ''}`;
}

/** commandLine shortens argv for messages: the program and its first arguments. */
export function commandLine(argv: readonly string[], words = 4): string {
  return argv.length > words ? `${argv.slice(0, words).join(' ')} ...` : argv.join(' ');
}

export interface FailureOptions {
  /** Error code instead of COMMAND_FAILED (a time-out is TIMEOUT unless this is given). */
  code?: ErrorCode;
  /** What was being done, for the message (default: the command line). */
  what?: string;
  hint?: string;
}

/** ProcessError: a process that did not succeed, with its result. */
export class ProcessError extends AppError {
  readonly result: ProcessResult;
  constructor(result: ProcessResult, opts: FailureOptions = {}) {
    const code = opts.code ?? (result.timedOut ? 'TIMEOUT' : 'COMMAND_FAILED');
    super(code, `${opts.what ?? commandLine(result.argv)} failed (${describeFailure(result)})`, {
      ...(opts.hint === undefined ? {} : { hint: opts.hint }),
      detail: { argv: result.argv, code: result.code, signal: result.signal, timedOut: result.timedOut },
    });
    this.name = 'ProcessError';
    this.result = result;
  }
}

/** isProcessError narrows an unknown thrown value. */
export function isProcessError(e: unknown): e is ProcessError {
  return e instanceof ProcessError;
}

export interface CheckOptions extends FailureOptions {
  /** Exit codes that are not failures besides 0. */
  okCodes?: readonly number[];
}

/** succeeded: exited (not killed, not timed out) with 0 or one of `okCodes`. */
export function succeeded(r: ProcessResult, okCodes: readonly number[] = []): boolean {
  return !r.timedOut && r.code !== null && (r.code === 0 || okCodes.includes(r.code));
}

/** checkResult returns the result when it succeeded, else throws its ProcessError. */
export function checkResult(r: ProcessResult, opts: CheckOptions = {}): ProcessResult {
  if (succeeded(r, opts.okCodes)) return r;
  throw new ProcessError(r, opts);
}

/** mustRun runs argv and throws a ProcessError unless it succeeds. */
export async function mustRun(argv: string[], opts: RunOptions & CheckOptions = {}): Promise<ProcessResult> {
  return checkResult(await runProcess(argv, opts), opts);
}
