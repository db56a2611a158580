/**
 * @module build/guest/packages
 * The guest's Debian packages: one apt snapshot (a private lists folder, the host's sources),
 * the kernel metapackage resolved to its versioned image, exact candidate versions, `apt-get
 * download` into a cache folder (a .deb already there is not fetched again) and `dpkg-deb -x` into
 * a work folder. Nothing is installed on the host.
 */
import { mkdir, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { AppError } from '../../errors.js';
import { aptOptions, candidateVersions, refreshSnapshot } from '../apt.js';
import { execFile } from './spawn.js';

export interface ResolvedPackages {
  /** the versioned kernel image package the metapackage depends on */
  kernel: string;
  /** package -> exact version, the kernel metapackage replaced by `kernel` */
  versions: Record<string, string>;
}

/** kernelDependency reads the versioned kernel image from `apt-cache depends` output. */
export function kernelDependency(text: string, meta: string): string {
  const m = /^\s+Depends:\s+(linux-image-\S+)/m.exec(text);
  if (m?.[1] === undefined)
    throw new AppError('RECIPE_INVALID', `${meta} depends on no linux-image-* package in this snapshot`);
  return m[1];
}

/** resolvePackages refreshes the snapshot under aptRoot and pins every package to its candidate. */
export async function resolvePackages(
  aptRoot: string,
  packages: readonly string[],
  kernelMeta: string,
): Promise<ResolvedPackages> {
  await refreshSnapshot(aptRoot);
  const { stdout } = await execFile('apt-cache', [...aptOptions(aptRoot), 'depends', kernelMeta]).catch(
    (e) => {
      throw new AppError(
        'RECIPE_INVALID',
        `no package ${kernelMeta} in the snapshot: ${(e as Error).message}`,
      );
    },
  );
  const kernel = kernelDependency(stdout, kernelMeta);
  const names = packages.map((p) => (p === kernelMeta ? kernel : p));
  const found = await candidateVersions(aptRoot, names);
  const missing = [...found].filter(([, v]) => v === undefined).map(([p]) => p);
  if (missing.length > 0)
    throw new AppError('RECIPE_INVALID', `no candidate version in the snapshot for: ${missing.join(', ')}`, {
      hint: 'check the package names in templates/guest/guest.yaml and the host apt sources',
    });
  const versions: Record<string, string> = {};
  for (const [p, v] of [...found].sort(([a], [b]) => (a < b ? -1 : 1))) versions[p] = v as string;
  return { kernel, versions };
}

/** debFileName is how apt-get download names a package file (":" of an epoch becomes %3a). */
export function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
}

/** debPattern matches a downloaded .deb of one exact version, whatever its architecture. */
function findDeb(files: readonly string[], name: string, version: string): string | undefined {
  return files.find(
    (f) => f === debFileName(name, version, 'amd64') || f === debFileName(name, version, 'all'),
  );
}

/** downloadPackages fetches the pinned versions missing from debsDir; returns package -> .deb path. */
export async function downloadPackages(
  aptRoot: string,
  debsDir: string,
  versions: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  await mkdir(debsDir, { recursive: true });
  const have = await readdir(debsDir);
  const wanted = Object.entries(versions).filter(([p, v]) => findDeb(have, p, v) === undefined);
  if (wanted.length > 0) {
    await execFile(
      'apt-get',
      [
        '-q',
        ...aptOptions(aptRoot),
        '-o',
        'APT::Sandbox::User=root',
        'download',
        ...wanted.map(([p, v]) => `${p}=${v}`),
      ],
      { cwd: debsDir, timeoutMs: 600_000 },
    );
  }
  const now = await readdir(debsDir);
  const out: Record<string, string> = {};
  for (const [p, v] of Object.entries(versions)) {
    const f = findDeb(now, p, v);
    if (f === undefined)
      throw new AppError('COMMAND_FAILED', `apt-get download left no .deb for ${p}=${v} in ${debsDir}`);
    out[p] = join(debsDir, f);
  }
  return out;
}

/** unpackPackages runs `dpkg-deb -x` of each .deb into unpackDir/<package>; returns those folders. */
export async function unpackPackages(
  debs: Readonly<Record<string, string>>,
  unpackDir: string,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [p, deb] of Object.entries(debs)) {
    const dir = join(unpackDir, p);
    await mkdir(dir, { recursive: true });
    await execFile('dpkg-deb', ['-x', deb, dir], { timeoutMs: 300_000 });
    out[p] = dir;
  }
  return out;
}

/**
 * packageFile finds `path` inside an unpacked package, following symlinks the way the guest would
 * (an absolute target is inside the package root), and never leaving the package.
 */
export async function packageFile(
  root: string,
  path: string,
): Promise<{ abs: string; size: number; mode: number }> {
  let rel = path;
  for (let hops = 0; hops < 16; hops++) {
    const abs = join(root, rel);
    const st = await stat(abs).catch(() => undefined);
    const link = await readlink(abs).catch(() => undefined);
    if (link !== undefined) {
      rel = isAbsolute(link) ? link.slice(1) : join(dirname(rel), link);
      if (relative(root, join(root, rel)).startsWith('..'))
        throw new AppError('RECIPE_INVALID', `${path} in ${root} links outside the package`);
      continue;
    }
    if (st === undefined || !st.isFile())
      throw new AppError('RECIPE_INVALID', `the package unpacked in ${root} has no file ${path}`);
    return { abs, size: st.size, mode: st.mode & 0o777 };
  }
  throw new AppError('RECIPE_INVALID', `${path} in ${root}: too many symlinks`);
}
