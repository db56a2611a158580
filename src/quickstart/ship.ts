/**
 * @module quickstart/ship
 * What the quickstart copies to a remote HOST: the built package, not the development tree. That is
 * every file of the checkout that git tracks (or would: new files not ignored), minus what only
 * development needs (TypeScript sources, tests, benches, linter and compiler settings), plus the
 * compiled `dist/src`. HOST then needs only the runtime dependencies (`npm ci --omit=dev`), no
 * TypeScript build. The content hash names a shipment, so a second run sees that HOST already has
 * it and sends nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AppError } from '../errors.js';
import { mustRun } from '../process/index.js';

/** Top-level folders and files that only development uses; node_modules and dist are never listed by git. */
const DEV_ONLY = new Set([
  'src',
  'test',
  'bench',
  '.ci',
  'node_modules',
  'dist',
  'biome.json',
  'tsconfig.json',
]);

export interface ShipFile {
  /** Path relative to the package root (forward slashes). */
  path: string;
  /** Where to read it from. */
  source: string;
  mode: number;
}

async function walk(root: string, dir: string, skipTop: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (skipTop && dir === root && (DEV_ONLY.has(e.name) || e.name === '.git')) continue;
    if (e.isDirectory()) out.push(...(await walk(root, full, skipTop)));
    else if (e.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

/** checkoutFiles lists the package's files: git's view when this is a git checkout, else a walk. */
async function checkoutFiles(root: string): Promise<string[]> {
  try {
    const { stdout } = await mustRun(
      ['git', '-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { timeoutMs: 60_000 },
    );
    return stdout.split('\0').filter((p) => p !== '');
  } catch {
    return walk(root, root, true);
  }
}

/** shipList is the sorted list of files to ship from the package at `root`. */
export async function shipList(root: string): Promise<ShipFile[]> {
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'run.js')))
    throw new AppError('FILE_NOT_FOUND', `${root}/dist/src is not built: nothing to ship`, {
      hint: 'run npm run build (./quickstart.sh does it for you)',
    });
  const paths = new Set<string>();
  for (const p of await checkoutFiles(root)) {
    const top = p.split('/')[0] as string;
    // Paths with a newline cannot go into the line-based manifest; no file of ours has one.
    if (DEV_ONLY.has(top) || p.includes('\n')) continue;
    paths.add(p);
  }
  for (const p of await walk(join(root, 'dist', 'src'), join(root, 'dist', 'src'), false))
    paths.add(`dist/src/${p}`);
  // The bundle bin/overcloud prefers, with its chunks (tar keeps mtimes, so it stays newer there too).
  const [bundle, entry] = await Promise.all(
    ['bundle/overcloud.mjs', 'src/cli/run.js'].map((f) =>
      lstat(join(root, 'dist', f)).catch(() => undefined),
    ),
  );
  if (bundle && entry && bundle.mtimeMs > entry.mtimeMs)
    for (const p of await walk(join(root, 'dist', 'bundle'), join(root, 'dist', 'bundle'), false))
      paths.add(`dist/bundle/${p}`);
  const files: ShipFile[] = [];
  for (const path of [...paths].sort()) {
    const source = join(root, path);
    // git lists files deleted from the work tree until the deletion is staged: skip those.
    const st = await lstat(source).catch(() => undefined);
    if (!st?.isFile()) continue;
    files.push({ path, source, mode: st.mode & 0o777 });
  }
  return files;
}

/** shipHash names the content of a shipment: paths, executable bits and bytes. */
export async function shipHash(files: ShipFile[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) {
    const content = createHash('sha256')
      .update(await readFile(f.source))
      .digest('hex');
    h.update(`${f.path}\0${f.mode & 0o111 ? 'x' : '-'}\0${content}\n`);
  }
  return h.digest('hex');
}
