/**
 * @module image-build/context
 * Template files of a recipe: their content hash (an input of the cache key) and their staging
 * into a build context folder (rootfs/<destination>), modes kept so scripts stay executable.
 */
import { createHash } from 'node:crypto';
import { cp, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Recipe } from './recipes.js';

async function walkFiles(path: string, rel: string, out: [string, string][]): Promise<void> {
  const st = await lstat(path);
  if (st.isDirectory()) {
    for (const name of (await readdir(path)).sort()) await walkFiles(join(path, name), `${rel}/${name}`, out);
    return;
  }
  const body = st.isSymbolicLink()
    ? 'symlink'
    : createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
  out.push([rel, `${(st.mode & 0o7777).toString(8)}:${body}`]);
}

/** hashFiles returns template path -> "mode:sha256" for every file a recipe copies (folders walked). */
export async function hashFiles(filesRoot: string, recipe: Recipe): Promise<Record<string, string>> {
  const out: [string, string][] = [];
  for (const src of Object.keys(recipe.files).sort()) {
    await walkFiles(join(filesRoot, src), src.replace(/\/$/, ''), out);
  }
  return Object.fromEntries(out);
}

/** stageContext writes a fresh context folder: the Containerfile plus rootfs/ holding the files. */
export async function stageContext(
  dir: string,
  filesRoot: string,
  recipe: Recipe,
  containerfile: string,
): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'rootfs'), { recursive: true });
  for (const [src, dest] of Object.entries(recipe.files)) {
    const target = join(dir, 'rootfs', dest);
    await mkdir(src.endsWith('/') ? target : dirname(target), { recursive: true });
    await cp(join(filesRoot, src), target, { recursive: true, preserveTimestamps: false });
  }
  await writeFile(join(dir, 'Containerfile'), containerfile);
}
