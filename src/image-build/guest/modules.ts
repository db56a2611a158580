/**
 * @module build/guest/modules
 * Which kernel modules the guest loads, and in what order. Debian's kernel package ships no
 * modules.dep (depmod writes it at install time), so dependencies come from each module's own
 * `.modinfo` section (`depends=a,b`), and the order is a depth-first walk: dependencies first.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AppError } from '../../errors.js';

/** canonical is the name the kernel uses: "-" and "_" are the same in module names. */
export const canonical = (name: string): string => name.replace(/-/g, '_');

/** modinfoDepends reads `depends=` from a module file's `.modinfo` strings. */
export function modinfoDepends(ko: Buffer): string[] {
  const text = ko.toString('latin1');
  const m = /(?:^|\0)depends=([^\0]*)\0/.exec(text);
  if (m === null) throw new AppError('IMAGE_BUILD_FAILED', 'no depends= in .modinfo (not a kernel module?)');
  return (m[1] ?? '')
    .split(',')
    .filter((d) => d !== '')
    .map(canonical);
}

/**
 * loadOrder lists `wanted` and everything they depend on, each after its dependencies, each once.
 * The walk follows `wanted` in order and each module's dependencies sorted, so the result is stable.
 */
export function loadOrder(
  wanted: readonly string[],
  dependsOf: (name: string) => readonly string[],
): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (name: string, path: string[]): void => {
    if (done.has(name)) return;
    if (path.includes(name))
      throw new AppError('IMAGE_BUILD_FAILED', `module dependency cycle: ${[...path, name].join(' -> ')}`);
    for (const d of [...dependsOf(name)].sort()) visit(d, [...path, name]);
    done.add(name);
    order.push(name);
  };
  for (const w of wanted) visit(canonical(w), []);
  return order;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.name.endsWith('.ko')) out.push(p);
  }
}

export interface ModuleFile {
  name: string;
  /** path relative to the kernel's module folder (lib/modules/VERSION) */
  rel: string;
  abs: string;
}

/** resolveModules finds the wanted modules and their dependencies in an unpacked kernel tree. */
export async function resolveModules(moduleDir: string, wanted: readonly string[]): Promise<ModuleFile[]> {
  const files: string[] = [];
  await walk(join(moduleDir, 'kernel'), files);
  const byName = new Map<string, string>();
  for (const f of files) byName.set(canonical((f.split('/').pop() as string).replace(/\.ko$/, '')), f);
  const deps = new Map<string, string[]>();
  const builtin = new Set(
    (await readFile(join(moduleDir, 'modules.builtin'), 'utf8').catch(() => ''))
      .split('\n')
      .map((l) => canonical((l.split('/').pop() ?? '').replace(/\.ko$/, '')))
      .filter((n) => n !== ''),
  );
  const missing: string[] = [];
  for (const name of wanted.map(canonical)) if (!byName.has(name) && !builtin.has(name)) missing.push(name);
  if (missing.length > 0)
    throw new AppError(
      'IMAGE_BUILD_FAILED',
      `kernel has no module ${missing.join(', ')} (not built in either)`,
    );
  // Read .modinfo of the wanted modules and, transitively, of their dependencies.
  const queue = wanted.map(canonical).filter((n) => byName.has(n));
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (deps.has(name)) continue;
    const path = byName.get(name);
    if (path === undefined)
      throw new AppError('IMAGE_BUILD_FAILED', `module ${name} is needed but not in the kernel package`);
    const d = modinfoDepends(await readFile(path));
    deps.set(name, d);
    queue.push(...d);
  }
  const order = loadOrder(
    wanted.map(canonical).filter((n) => byName.has(n)),
    (n) => deps.get(n) ?? [],
  );
  return order.map((name) => {
    const abs = byName.get(name) as string;
    return { name, abs, rel: relative(moduleDir, abs) };
  });
}
