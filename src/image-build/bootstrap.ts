/**
 * @module image-build/bootstrap
 * The root layer: mmdebstrap from the host's configured mirror and suites (security included),
 * with nothing of the build host left in it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readTextOr } from '../util/fs.js';
import type { Recipes } from './recipes.js';

export interface SourceFile {
  path: string;
  content: string;
}

/** hostSources reads the host's apt sources (deb822 files and sources.list); they are key inputs. */
export async function hostSources(etcApt = '/etc/apt'): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const list = join(etcApt, 'sources.list');
  const text = await readTextOr(list, undefined);
  if (text !== undefined && /^\s*deb\s/m.test(text)) out.push({ path: list, content: text });
  const dir = join(etcApt, 'sources.list.d');
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => /\.(sources|list)$/.test(n))
    .sort();
  for (const n of names) out.push({ path: join(dir, n), content: await readFile(join(dir, n), 'utf8') });
  return out;
}

/**
 * bootstrapArgs are mmdebstrap's arguments. The customize hook removes what mmdebstrap copies from
 * the build host (resolv.conf, hostname) and empties machine-id: containers get their own.
 * Documentation other than copyright files is left out of this and every later layer (the dpkg
 * filter stays in the image).
 */
export function bootstrapArgs(
  b: Recipes['bootstrap'],
  tarPath: string,
  sources: readonly string[],
): string[] {
  return [
    `--variant=${b.variant}`,
    ...(b.include.length > 0 ? [`--include=${b.include.join(',')}`] : []),
    '--aptopt=APT::Install-Recommends "false"',
    '--aptopt=APT::Install-Suggests "false"',
    '--dpkgopt=path-exclude=/usr/share/doc/*',
    '--dpkgopt=path-include=/usr/share/doc/*/copyright',
    '--dpkgopt=path-exclude=/usr/share/man/*',
    '--dpkgopt=path-exclude=/usr/share/info/*',
    '--customize-hook=rm -f "$1/etc/resolv.conf" "$1"/var/lib/apt/lists/lock; : > "$1/etc/hostname"; : > "$1/etc/machine-id"',
    b.suite,
    tarPath,
    ...sources,
  ];
}
