/**
 * @module process
 * The one process layer: every process the tool starts goes through here. Short commands answer with
 * one `ProcessResult` (exit code, signal, time-out, the tail of stdout and stderr under a stated cap,
 * duration) and can be thrown as a `ProcessError`; daemons and long-lived children have their own
 * named functions; node connections (local or SSH) run commands on the deploy's nodes.
 */
export {
  aliveWith,
  cmdlineOf,
  inNet,
  killAndWait,
  type LongLivedChild,
  pidGone,
  startChild,
  startDaemon,
} from './children.js';
export {
  type CheckOptions,
  checkResult,
  commandLine,
  describeFailure,
  type FailureOptions,
  isProcessError,
  mustRun,
  ProcessError,
  succeeded,
} from './error.js';
export {
  connectAll,
  type InventoryNode,
  localConnection,
  type NodeConnection,
  type SshSettings,
  sshArgs,
  sshConnection,
} from './node.js';
export {
  DEFAULT_TIMEOUT_MS,
  EXIT_CANNOT_START,
  OUTPUT_TAIL_BYTES,
  type ProcessResult,
  type Runner,
  type RunOptions,
  runProcess,
  runSync,
  TailBuffer,
} from './run.js';
export { shellQuote } from './shell-quote.js';
