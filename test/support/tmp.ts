/**
 * @module test/support/tmp
 * Temporary file trees for tests, described inline and removed afterwards.
 */
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
