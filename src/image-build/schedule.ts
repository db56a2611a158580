/**
 * @module image-build/schedule
 * Build order priorities. With a few slots and images that take from 3 s to 3 minutes, the run
 * ends when its longest chain does, so the image heading the longest remaining chain should start
 * first. Chain lengths come from the build times the last runs recorded (`durations.json` in the
 * cache folder); an image never built counts DEFAULT_SECONDS.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Recipe } from './recipes.js';

export const DEFAULT_SECONDS = 20;

/** criticalPath gives each image its own time plus the longest chain of descendants below it. */
export function criticalPath(
  selected: readonly Recipe[],
  seconds: ReadonlyMap<string, number>,
): Map<string, number> {
  const children = new Map<string, string[]>();
  for (const r of selected) {
    if (r.parent !== undefined) children.set(r.parent, [...(children.get(r.parent) ?? []), r.name]);
  }
  const out = new Map<string, number>();
  const visit = (name: string): number => {
    const known = out.get(name);
    if (known !== undefined) return known;
    const below = Math.max(0, ...(children.get(name) ?? []).map(visit));
    const total = (seconds.get(name) ?? DEFAULT_SECONDS) + below;
    out.set(name, total);
    return total;
  };
  for (const r of selected) visit(r.name);
  return out;
}

/** readDurations loads recorded build times; a missing or unreadable file means none. */
export async function readDurations(path: string): Promise<Map<string, number>> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (data === null || typeof data !== 'object') return new Map();
    return new Map(
      Object.entries(data as Record<string, unknown>).filter(
        (e): e is [string, number] => typeof e[1] === 'number',
      ),
    );
  } catch {
    return new Map();
  }
}

/** writeDurations merges this run's build times into the file. */
export async function writeDurations(path: string, built: ReadonlyMap<string, number>): Promise<void> {
  if (built.size === 0) return;
  const all = await readDurations(path);
  for (const [k, v] of built) all.set(k, Math.round(v * 10) / 10);
  await writeFile(path, `${JSON.stringify(Object.fromEntries([...all].sort()), null, 1)}\n`);
}
