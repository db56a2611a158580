/**
 * @module util/paths
 * Where the package's shipped data lives (templates/), wherever the package is installed.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

let root: string | undefined;

/** packageRoot is the folder holding the package's package.json (found once, walking up). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'templates'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new AppError('INTERNAL', 'cannot find the package root (package.json beside templates/)', {
        hint: 'the installation is incomplete: reinstall overcloud, or run it from its source folder',
      });
    dir = parent;
  }
  root = dir;
  return dir;
}

/** templatesPath resolves a path under the shipped templates/ folder. */
export function templatesPath(...parts: string[]): string {
  return join(packageRoot(), 'templates', ...parts);
}

/**
 * cliCommand is the argv that starts this installation's CLI with this Node (the compiled entry,
 * not the bundle: a lab's long-running registries must not depend on a bundle rebuilt under them).
 */
export function cliCommand(): string[] {
  return [process.execPath, join(packageRoot(), 'dist', 'src', 'cli', 'run.js')];
}

/** overcloudBin is bin/overcloud of this installation (it runs the bundle when that is current). */
export function overcloudBin(): string {
  return join(packageRoot(), 'bin', 'overcloud');
}
