/**
 * @module image-build/builder
 * `overcloud image build`: plan, key, build what is missing (parents first, bounded parallelism),
 * tag, and optionally push. A failed image names its package and apt's error; its descendants are
 * skipped and every other image still finishes.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, errorMessage } from '../errors.js';
import { loadCatalogue, shortName } from '../prepare/index.js';
import { readTextOr } from '../util/fs.js';
import { candidateVersions, refreshSnapshot } from './apt.js';
import { bootstrapArgs, hostSources } from './bootstrap.js';
import { APT_LISTS_MOUNT, renderContainerfile } from './containerfile.js';
import { hashFiles, stageContext } from './context.js';
import { versionTag } from './debian-version.js';
import { DEFAULT_CACHE_DIR } from './defaults.js';
import type { ImageResult, ImageStatus } from './image-result.js';
import { imageLabels, type PlannedImage, planKeys, repoNames } from './keys.js';
import { withLock } from './lock.js';
import { selectImages } from './plan.js';
import { bootstrapRootfs, buildImage, builtImages, importRootfs } from './podman.js';
import { type PushSummary, pushAll, tagMissing } from './publish.js';
import { filesRoot, loadRecipes, mainPackage, type Recipe, type Recipes } from './recipes.js';
import { criticalPath, readDurations, writeDurations } from './schedule.js';
import { Semaphore } from './semaphore.js';

export { DEFAULT_CACHE_DIR } from './defaults.js';

export interface BuildOptions {
  include?: string;
  exclude?: string;
  namespace: string;
  prefix: string;
  tag: string;
  push?: string;
  parallel: number;
  recipesPath?: string;
  cataloguePath?: string;
  cacheDir?: string;
  log?: (line: string) => void;
}

export type { ImageResult, ImageStatus } from './image-result.js';

export interface BuildSummary {
  images: ImageResult[];
  /** what --push did */
  push?: PushSummary;
  seconds: number;
  snapshot: string;
}

/** catalogueNames are the kolla image names in the catalogue (the part between prefix and suffix). */
export async function catalogueNames(path?: string): Promise<Set<string>> {
  const cat = await loadCatalogue(path);
  return new Set(
    cat.entries.map((e) => {
      const m = /\{\{\s*name_prefix\s*\}\}(.+?)\{\{\s*name_suffix\s*\}\}/.exec(e.imagename);
      return m?.[1] ?? shortName(e.imagename).replace(/[{}\s]/g, '');
    }),
  );
}

/**
 * aptError pulls apt's own error lines out of a build log, for a one-line failure message: the
 * `E:` and dpkg error lines first, then the unmet-dependency lines that explain them.
 */
export function aptError(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trim());
  const errors = lines.filter((l) => /^E: /.test(l) || /^dpkg: error/.test(l));
  const why = lines.filter((l) => /^\S+ : (Depends|Pre-Depends|Conflicts|Breaks): /.test(l));
  const all = [...new Set([...errors, ...why])];
  return all.length > 0 ? all.slice(0, 5).join(' | ') : undefined;
}

/** runImageBuild builds the selected images and returns what happened to each. */
export async function runImageBuild(opts: BuildOptions): Promise<BuildSummary> {
  const started = Date.now();
  const say = opts.log ?? (() => {});
  // Input errors surface before any waiting for the lock.
  const recipes = await loadRecipes(opts.recipesPath);
  const served = await catalogueNames(opts.cataloguePath);
  const selected = selectImages(recipes, { include: opts.include, exclude: opts.exclude });
  const cache = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  await mkdir(join(cache, 'logs'), { recursive: true });
  return withLock(
    join(cache, 'build.lock'),
    () => buildSelected(opts, { recipes, served, selected, cache, started, say }),
    {
      waitMs: LOCK_WAIT_MS,
      onWait: (pid) => say(`waiting for another image build (pid ${pid}) using ${cache}`),
    },
  );
}

/** How long a run waits for another run on the same cache folder (a cold full build takes ~8 min). */
const LOCK_WAIT_MS = 30 * 60_000;

interface RunContext {
  recipes: Recipes;
  served: ReadonlySet<string>;
  selected: Recipe[];
  cache: string;
  started: number;
  say: (line: string) => void;
}

async function buildSelected(opts: BuildOptions, run: RunContext): Promise<BuildSummary> {
  const { recipes, served, selected, cache, started, say } = run;
  const snapshot = await refreshSnapshot(join(cache, 'apt'));
  const wantedPackages = selected.flatMap((r) => [...r.packages, mainPackage(recipes.images, r.name) ?? '']);
  const versions = await candidateVersions(
    join(cache, 'apt'),
    wantedPackages.filter((p) => p !== ''),
  );
  const root = filesRoot(recipes.path);
  const fileHashes = new Map<string, Record<string, string>>();
  for (const r of selected) fileHashes.set(r.name, await hashFiles(root, r));
  const sources = await hostSources();
  const plan = planKeys(recipes, selected, {
    snapshot: snapshot.hash,
    versions,
    fileHashes,
    global: {
      bootstrap: bootstrapArgs(recipes.bootstrap, 'rootfs.tar', []),
      cleanup: recipes.cleanup,
      sources: sources.map((s) => s.content),
    },
  });

  const existing = await builtImages();
  const durationsFile = join(cache, 'durations.json');
  // This machine's recorded build times, else the shipped ones (measured on a 2-core VM).
  const recorded = await readDurations(durationsFile);
  const hints =
    recorded.size > 0
      ? recorded
      : await readDurations(filesRoot(recipes.path).replace(/files$/, 'durations.json'));
  const priority = criticalPath(selected, hints);
  const sem = new Semaphore(Math.max(1, opts.parallel));
  const done = new Map<string, Promise<ImageResult>>();
  const ids = new Map<string, string>();

  const buildOne = async (p: PlannedImage): Promise<ImageResult> => {
    const parentResult = p.recipe.parent === undefined ? undefined : await done.get(p.recipe.parent);
    const names = repoNames(p, served, opts);
    const base: ImageResult = { name: p.recipe.name, key: p.key, status: 'skipped', seconds: 0, names };
    if (
      parentResult !== undefined &&
      (parentResult.status === 'failed' || parentResult.status === 'skipped')
    ) {
      return { ...base, error: `parent ${p.recipe.parent} was not built` };
    }
    const missing = p.recipe.packages.filter((pkg) => versions.get(pkg) === undefined);
    if (missing.length > 0) {
      return {
        ...base,
        status: 'failed',
        error: `package ${missing.join(', ')}: no installation candidate in the configured Debian suites`,
      };
    }
    let t0 = Date.now();
    const hit = existing.get(p.key);
    let id: string;
    let status: ImageStatus;
    if (hit !== undefined) {
      id = hit.id;
      status = 'cached';
    } else {
      const release = await sem.acquire(priority.get(p.recipe.name) ?? 0);
      t0 = Date.now(); // time spent building, not waiting for a slot
      try {
        say(`building ${p.recipe.name}`);
        id = await buildLayer(p, recipes, cache, ids, sources, root);
        status = 'built';
      } catch (e) {
        const logText = await readTextOr(join(cache, 'logs', `${p.recipe.name}.log`), '');
        const apt = aptError(logText);
        const pkgs = p.recipe.packages.join(' ') || '(no packages)';
        return {
          ...base,
          status: 'failed',
          seconds: (Date.now() - t0) / 1000,
          error: `packages ${pkgs}: ${apt ?? errorMessage(e)} (log: ${join(cache, 'logs', `${p.recipe.name}.log`)})`,
        };
      } finally {
        release();
      }
    }
    ids.set(p.recipe.name, id);
    const vtag = p.mainVersion === undefined ? undefined : versionTag(p.mainVersion);
    await tagMissing(id, names, [opts.tag, ...(vtag === undefined ? [] : [vtag])], hit);
    const seconds = (Date.now() - t0) / 1000;
    say(`${status === 'cached' ? 'unchanged' : 'built'} ${p.recipe.name} (${seconds.toFixed(1)} s)`);
    return { ...base, status, seconds, id, ...(vtag === undefined ? {} : { versionTag: vtag }) };
  };

  for (const p of plan) done.set(p.recipe.name, buildOne(p));
  const images = await Promise.all(plan.map((p) => done.get(p.recipe.name) as Promise<ImageResult>));
  await writeDurations(
    durationsFile,
    new Map(images.filter((i) => i.status === 'built').map((i) => [i.name, i.seconds])),
  );

  const push =
    opts.push === undefined
      ? undefined
      : await pushAll(images, { tag: opts.tag, push: opts.push }, cache, say);
  return {
    images,
    seconds: (Date.now() - started) / 1000,
    snapshot: snapshot.hash,
    ...(push === undefined ? {} : { push }),
  };
}

async function buildLayer(
  p: PlannedImage,
  recipes: Recipes,
  cache: string,
  ids: ReadonlyMap<string, string>,
  sources: readonly { path: string }[],
  root: string,
): Promise<string> {
  const name = p.recipe.name;
  const logFile = join(cache, 'logs', `${name}.log`);
  await writeFile(logFile, '');
  let from: string;
  if (p.recipe.parent === undefined) {
    const tar = join(cache, 'rootfs', `${p.key}.tar`);
    await mkdir(join(cache, 'rootfs'), { recursive: true });
    await rm(tar, { force: true });
    await bootstrapRootfs(
      bootstrapArgs(
        recipes.bootstrap,
        tar,
        sources.map((s) => s.path),
      ),
      logFile,
    );
    try {
      from = await importRootfs(tar, 'localhost/overcloud-build/rootfs:latest', logFile);
    } finally {
      await rm(tar, { force: true });
    }
  } else {
    const parentId = ids.get(p.recipe.parent);
    if (parentId === undefined)
      throw new AppError('INTERNAL', `${name}: parent ${p.recipe.parent} has no image`);
    from = parentId;
  }
  const ctx = join(cache, 'ctx', name);
  const containerfile = renderContainerfile({
    recipe: p.recipe,
    from,
    labels: imageLabels(p),
    user: p.user,
    hasFiles: Object.keys(p.recipe.files).length > 0,
    hygiene: recipes,
    isRoot: p.recipe.parent === undefined,
  });
  await stageContext(ctx, root, p.recipe, containerfile);
  const iidFile = join(ctx, 'iid');
  await buildImage(ctx, [[join(cache, 'apt', 'lists'), APT_LISTS_MOUNT]], logFile, iidFile);
  const id = (await readFile(iidFile, 'utf8')).trim().replace(/^sha256:/, '');
  await rm(ctx, { recursive: true, force: true });
  return id;
}
