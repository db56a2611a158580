/**
 * @module build/guest/initramfs
 * The guest's whole userland, as a gzip'd cpio: the recipe's files/ tree (init, /etc), files taken
 * from the unpacked packages, the kernel modules with their load order, /dev/console and the empty
 * mount points. Written as a stream; reproducible (see cpio.ts; gzip's header carries no time).
 */
import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { AppError } from '../../errors.js';
import type { CpioEntry } from './cpio.js';
import { cpioStream } from './cpio.js';
import { elfNeeded, missingLibraries } from './elf.js';
import type { ModuleFile } from './modules.js';
import { packageFile } from './packages.js';
import type { GuestRecipe } from './recipe.js';

const EMPTY_DIRS: readonly [string, number][] = [
  ['dev', 0o755],
  ['proc', 0o555],
  ['sys', 0o555],
  ['run', 0o755],
  ['tmp', 0o1777],
  ['mnt', 0o755],
  ['root', 0o700],
  ['sbin', 0o755],
  ['usr/sbin', 0o755],
];

/** initramfsEntries lists everything that goes into the initramfs. */
export async function initramfsEntries(
  recipe: GuestRecipe,
  unpacked: Readonly<Record<string, string>>,
  modules: readonly ModuleFile[],
): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = EMPTY_DIRS.map(([path, mode]) => ({ path, kind: 'dir', mode }));
  entries.push({ path: 'dev/console', kind: 'char', mode: 0o600, major: 5, minor: 1 });
  for (const t of recipe.templates.filter((t) => t.rel.startsWith('files/'))) {
    entries.push({
      path: t.rel.slice('files/'.length),
      kind: 'file',
      mode: t.mode,
      size: t.bytes.length,
      source: t.bytes,
    });
  }
  const needs = new Map<string, string[] | undefined>();
  for (const f of recipe.files) {
    const root = unpacked[f.package];
    if (root === undefined) throw new AppError('IMAGE_BUILD_FAILED', `package ${f.package} was not unpacked`);
    const found = await packageFile(root, f.path);
    needs.set(f.to ?? f.path, elfNeeded(await readFile(found.abs)));
    entries.push({
      path: f.to ?? f.path,
      kind: 'file',
      mode: found.mode & 0o111 ? 0o755 : 0o644,
      size: found.size,
      source: found.abs,
    });
  }
  const missing = missingLibraries(needs);
  if (missing.length > 0)
    throw new AppError(
      'RECIPE_INVALID',
      `${recipe.path}: the guest's programs need libraries no recipe file provides: ${missing.join(', ')}`,
      {
        hint: 'add the package and the library path to `files` in the guest recipe',
      },
    );
  for (const m of modules) {
    const { size } = await stat(m.abs);
    entries.push({ path: `lib/modules/${m.name}.ko`, kind: 'file', mode: 0o644, size, source: m.abs });
  }
  const order = Buffer.from(modules.map((m) => `${m.name}.ko\n`).join(''));
  entries.push({
    path: 'lib/modules/load-order',
    kind: 'file',
    mode: 0o644,
    size: order.length,
    source: order,
  });
  return entries;
}

/** writeInitramfs streams the archive through gzip into `path`. */
export async function writeInitramfs(
  path: string,
  entries: readonly CpioEntry[],
  mtime: number,
): Promise<void> {
  await pipeline(
    Readable.from(cpioStream(entries, mtime)),
    createGzip({ level: 9 }),
    createWriteStream(path, { flags: 'wx' }),
  );
}
