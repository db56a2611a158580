/**
 * @module test/support/tmp
 * Temporary file trees for tests, described inline and removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TmpTree {
  dir: string;
  path(...parts: string[]): string;
  cleanup(): Promise<void>;
}

/** tmpTree writes `files` (relative path -> content) into a fresh temporary folder. */
export async function tmpTree(files: Record<string, string> = {}): Promise<TmpTree> {
  const dir = await mkdtemp(join(tmpdir(), 'overcloud-test-'));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return {
    dir,
    path: (...parts) => join(dir, ...parts),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const scratch: string[] = [];
process.on('exit', () => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/**
 * scratchDir makes a temporary folder that is removed when the test process exits, passed or
 * failed (node --test runs each test file in its own process).
 */
export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `${prefix}-`));
  scratch.push(d);
  return d;
}
