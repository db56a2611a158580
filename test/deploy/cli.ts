/**
 * @module test/deploy/cli
 * Runs the real CLI inside the lab's undercloud namespace (where the nodes are reachable).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import type { Lab } from './lab.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** overcloud runs `overcloud ARGS` from the undercloud namespace. */
export function overcloud(lab: Lab, args: string[], timeoutMs = 300_000): Promise<CliResult> {
  const started = Date.now();
  const entry = join(packageRoot(), 'dist', 'src', 'cli', 'run.js');
  return new Promise((resolve) => {
    execFile(
      'nsenter',
      [`--net=/run/netns/${lab.undercloud.ns}`, process.execPath, entry, ...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
