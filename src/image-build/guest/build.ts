/**
 * @module build/guest/build
 * `overcloud image build-guest`: the guest image from Debian's packages, reproducible and cached.
 *
 * Cache folder (<cache>/guest): apt/ (the private package snapshot), debs/ (downloaded packages,
 * kept), images/<key>/ (finished images: raw, qcow2, the kernel and initramfs, manifest.json) and
 * work-<pid>/ (unpacked packages during a build, removed afterwards). A build whose key is in
 * images/ costs one `apt-get update` and one `apt-cache policy`.
 */

import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { withLock } from '../lock.js';
import { makeQcow2, makeRawDisk } from './disk.js';
import { initramfsEntries, writeInitramfs } from './initramfs.js';
import { guestKey } from './key.js';
import { resolveModules } from './modules.js';
import { downloadPackages, type ResolvedPackages, resolvePackages, unpackPackages } from './packages.js';
import { type GuestRecipe, loadGuestRecipe } from './recipe.js';

export type GuestFormat = 'raw' | 'qcow2';

export interface GuestBuildOptions {
  cacheDir: string;
  recipePath?: string;
  /** copy the image here as <name>.<format> (none: leave it in the cache only) */
  outputDir?: string;
  format: GuestFormat;
  log?: (line: string) => void;
}

export interface GuestImage {
  key: string;
  cached: boolean;
  /** the image in the requested format, in the cache */
  image: string;
  /** the copy in outputDir, when asked for */
  output?: string;
  /** the kernel and initramfs of the same build (for direct kernel boots) */
  kernel: string;
  initramfs: string;
  sha256: string;
  bytes: number;
  versions: Record<string, string>;
  seconds: number;
}

interface Manifest {
  key: string;
  name: string;
  kernel: string;
  versions: Record<string, string>;
  epoch: number;
  files: Record<string, { sha256: string; bytes: number }>;
}

/** buildGuestImage resolves the inputs, reuses or builds the image, and copies it out. */
export async function buildGuestImage(opts: GuestBuildOptions): Promise<GuestImage> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const root = join(opts.cacheDir, 'guest');
  await mkdir(root, { recursive: true });
  return withLock(
    join(root, 'build.lock'),
    async () => {
      const recipe = await loadGuestRecipe(opts.recipePath);
      const resolved = await resolvePackages(join(root, 'apt'), recipe.packages, recipe.kernel.package);
      const epoch = sourceDateEpoch(recipe);
      const key = guestKey({ recipe, versions: resolved.versions, epoch });
      const dir = join(root, 'images', key);
      const cached = existsSync(join(dir, 'manifest.json'));
      if (cached) log(`${recipe.name}: unchanged (key ${key.slice(0, 12)}), reusing ${dir}`);
      else await buildInto(dir, { root, recipe, resolved, epoch, key, log });
      return finish(dir, recipe, resolved, key, cached, opts, started);
    },
    { waitMs: 600_000, onWait: (pid) => log(`waiting for another guest build (pid ${pid})`) },
  );
}

/** sourceDateEpoch is SOURCE_DATE_EPOCH from the environment, else the recipe's. */
export function sourceDateEpoch(recipe: GuestRecipe, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return recipe.source_date_epoch;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 315532800)
    throw new AppError('USAGE', `SOURCE_DATE_EPOCH=${raw}: expected seconds since 1970, from 1980 on`);
  return n;
}

interface BuildContext {
  root: string;
  recipe: GuestRecipe;
  resolved: ResolvedPackages;
  epoch: number;
  key: string;
  log: (line: string) => void;
}

/** buildInto builds every file in a work folder and renames the finished set into `dir`. */
async function buildInto(dir: string, c: BuildContext): Promise<void> {
  const work = join(c.root, `work-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'out'), { recursive: true });
  try {
    c.log(
      `${c.recipe.name}: fetching ${Object.keys(c.resolved.versions).length} packages (kernel ${c.resolved.kernel} ${c.resolved.versions[c.resolved.kernel]})`,
    );
    const debs = await downloadPackages(join(c.root, 'apt'), join(c.root, 'debs'), c.resolved.versions);
    const unpacked = await unpackPackages(debs, join(work, 'pkgs'));
    const kernelRoot = unpacked[c.resolved.kernel] as string;
    const kernelFile = await kernelImage(kernelRoot, c.resolved.kernel);
    const modules = await resolveModules(kernelFile.moduleDir, c.recipe.modules);
    c.log(`${c.recipe.name}: ${modules.length} modules: ${modules.map((m) => m.name).join(' ')}`);
    const out = join(work, 'out');
    await copyFile(kernelFile.vmlinuz, join(out, 'vmlinuz'));
    await writeInitramfs(
      join(out, 'initrd.gz'),
      await initramfsEntries(c.recipe, unpacked, modules),
      c.epoch,
    );
    const tool = (p: string): string => {
      const d = unpacked[p];
      if (d === undefined) throw new AppError('RECIPE_INVALID', `the recipe's tools must include ${p}`);
      return d;
    };
    await makeRawDisk(join(out, `${c.recipe.name}.raw`), {
      recipe: c.recipe,
      tools: { syslinux: tool('syslinux'), syslinuxCommon: tool('syslinux-common'), mtools: tool('mtools') },
      kernel: join(out, 'vmlinuz'),
      initramfs: join(out, 'initrd.gz'),
      epoch: c.epoch,
      workDir: work,
    });
    await makeQcow2(join(out, `${c.recipe.name}.raw`), join(out, `${c.recipe.name}.qcow2`));
    await writeManifest(out, c);
    await mkdir(join(c.root, 'images'), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(out, dir);
    c.log(`${c.recipe.name}: built ${dir}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** kernelImage finds boot/vmlinuz-* and lib/modules/<version> in the unpacked kernel package. */
async function kernelImage(root: string, pkg: string): Promise<{ vmlinuz: string; moduleDir: string }> {
  const version = pkg.replace(/^linux-image-/, '');
  const vmlinuz = join(root, 'boot', `vmlinuz-${version}`);
  const moduleDir = join(root, 'lib', 'modules', version);
  if (!existsSync(vmlinuz) || !existsSync(moduleDir))
    throw new AppError(
      'IMAGE_BUILD_FAILED',
      `${pkg} holds no boot/vmlinuz-${version} or lib/modules/${version}`,
    );
  return { vmlinuz, moduleDir };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** writeManifest records the key, versions and checksums next to the images. */
async function writeManifest(out: string, c: BuildContext): Promise<void> {
  const files: Manifest['files'] = {};
  for (const f of ['vmlinuz', 'initrd.gz', `${c.recipe.name}.raw`, `${c.recipe.name}.qcow2`]) {
    files[f] = { sha256: await sha256File(join(out, f)), bytes: (await stat(join(out, f))).size };
  }
  const manifest: Manifest = {
    key: c.key,
    name: c.recipe.name,
    kernel: c.resolved.kernel,
    versions: c.resolved.versions,
    epoch: c.epoch,
    files,
  };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** finish copies the requested format out (atomically) and describes the result. */
async function finish(
  dir: string,
  recipe: GuestRecipe,
  resolved: ResolvedPackages,
  key: string,
  cached: boolean,
  opts: GuestBuildOptions,
  started: number,
): Promise<GuestImage> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const name = `${recipe.name}.${opts.format}`;
  const entry = manifest.files[name];
  if (entry === undefined) throw new AppError('IMAGE_BUILD_FAILED', `${dir}/manifest.json lists no ${name}`);
  let output: string | undefined;
  if (opts.outputDir !== undefined) {
    await mkdir(opts.outputDir, { recursive: true });
    output = join(opts.outputDir, name);
    const tmp = `${output}.${process.pid}.tmp`;
    await copyFile(join(dir, name), tmp);
    await rename(tmp, output);
  }
  return {
    key,
    cached,
    image: join(dir, name),
    output,
    kernel: join(dir, 'vmlinuz'),
    initramfs: join(dir, 'initrd.gz'),
    sha256: entry.sha256,
    bytes: entry.bytes,
    versions: resolved.versions,
    seconds: (Date.now() - started) / 1000,
  };
}
