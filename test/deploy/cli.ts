/**
 * @module test/deploy/cli
 * Runs the real CLI inside the lab's undercloud namespace (where the nodes are reachable).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ContainerRow } from '../../src/deploy/ops.js';
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

/** succeeded asserts the CLI exited 0 (its output in the message) and passes the result on. */
export function succeeded(r: CliResult): CliResult {
  assert.equal(r.code, 0, `overcloud failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** containersByKey lists the deployed containers (`container list --format json`) by `node/name`. */
export async function containersByKey(lab: Lab, stateDir: string): Promise<Map<string, ContainerRow>> {
  const r = succeeded(
    await overcloud(lab, ['container', 'list', '--format', 'json', '--state-dir', stateDir]),
  );
  return new Map((JSON.parse(r.stdout) as ContainerRow[]).map((x) => [`${x.node}/${x.name}`, x]));
}

/** changedContainers names the containers whose ID or start time differ between two listings. */
export function changedContainers(a: Map<string, ContainerRow>, b: Map<string, ContainerRow>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => a.get(k)?.id !== b.get(k)?.id || a.get(k)?.started_at !== b.get(k)?.started_at)
    .sort();
}
