/**
 * @module test/support/exec
 * Runs real client tools (skopeo, podman) from tests and returns their output.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** run executes a command and throws with its stderr when it fails. */
export async function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}
