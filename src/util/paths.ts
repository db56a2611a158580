/**
 * @module util/paths
 * Where the package's shipped data lives (templates/), wherever the package is installed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** packageRoot is the folder holding the package's package.json (found once, walking up). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'templates'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('overcloud: cannot find the package root (package.json + templates/)');
    dir = parent;
  }
  root = dir;
  return dir;
}

/** templatesPath resolves a path under the shipped templates/ folder. */
export function templatesPath(...parts: string[]): string {
  return join(packageRoot(), 'templates', ...parts);
}
