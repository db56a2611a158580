/**
 * @module image-build/guest/spawn
 * The guest build starts its processes (apt, dpkg-deb, mtools, syslinux, qemu-img, qemu) through
 * the one process layer; this adapter keeps the guest code's `execFile(cmd, args, opts)` calls.
 * A failure throws the layer's ProcessError (COMMAND_FAILED, or TIMEOUT after a time-out, which
 * stops the command with SIGTERM so qemu and apt can clean up).
 */
import { mustRun, type ProcessResult } from '../../process/index.js';

export interface ExecOptions {
  /** Append the command's output to this file as it arrives. */
  logFile?: string;
  /** The whole environment (default this process's). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Exit codes that are not failures besides 0. */
  okCodes?: readonly number[];
  cwd?: string;
}

export type ExecResult = ProcessResult;

/** execFile runs a command without a shell and resolves with its result; a failure throws. */
export function execFile(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return mustRun([cmd, ...args], {
    timeoutSignal: 'SIGTERM',
    ...(opts.env === undefined ? {} : { baseEnv: opts.env }),
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    ...(opts.logFile === undefined ? {} : { logFile: opts.logFile }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.okCodes === undefined ? {} : { okCodes: opts.okCodes }),
  });
}
