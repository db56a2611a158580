/**
 * @module image-build/keys
 * Per-image build facts derived before anything runs: cache key, main package version, run user,
 * labels and repository names. Pure.
 */
import { looksLikeRegistry } from '../oci/reference.js';
import { cacheKey } from './cache-key.js';
import { installScript, rootSetupScript } from './containerfile.js';
import { versionLabels } from './debian-version.js';
import { tagNames } from './plan.js';
import { mainPackage, type Recipe, type Recipes, runUser } from './recipes.js';

export interface PlannedImage {
  recipe: Recipe;
  key: string;
  user: string;
  mainPackage: string | undefined;
  mainVersion: string | undefined;
}

export interface KeyContext {
  snapshot: string;
  versions: ReadonlyMap<string, string | undefined>;
  fileHashes: ReadonlyMap<string, Record<string, string>>;
  global: unknown;
  /** the root image's own RUN (the fixed accounts); default: what this build renders */
  rootScript?: string;
}

/** planKeys keys every selected image (in build order, so parents are keyed first). */
export function planKeys(recipes: Recipes, selected: readonly Recipe[], ctx: KeyContext): PlannedImage[] {
  const keys = new Map<string, string>();
  return selected.map((recipe) => {
    const main = mainPackage(recipes.images, recipe.name);
    const versions: Record<string, string> = {};
    for (const p of recipe.packages) versions[p] = ctx.versions.get(p) ?? '(none)';
    const key = cacheKey({
      recipe,
      parentKey: recipe.parent === undefined ? undefined : keys.get(recipe.parent),
      files: ctx.fileHashes.get(recipe.name) ?? {},
      snapshot: ctx.snapshot,
      versions,
      // the rendered RUN, so a change in how layers are made re-keys them without a format bump
      global: {
        shared: ctx.global,
        script: installScript(recipe, recipes) ?? '',
        ...(recipe.parent === undefined ? { root: ctx.rootScript ?? rootSetupScript() } : {}),
      },
    });
    keys.set(recipe.name, key);
    return {
      recipe,
      key,
      user: runUser(recipes.images, recipe.name),
      mainPackage: main,
      mainVersion: main === undefined ? undefined : ctx.versions.get(main),
    };
  });
}

/** imageLabels are the image's config labels; every key an ancestor sets is set again, so none leaks down. */
export function imageLabels(p: PlannedImage): Record<string, string> {
  const v = p.mainVersion === undefined ? undefined : versionLabels(p.mainVersion);
  return {
    version: v?.version ?? '',
    release: v?.release ?? '',
    'org.opencontainers.image.title': p.recipe.name,
    'org.opencontainers.image.version': p.mainVersion ?? '',
    'org.opencontainers.image.description': `${p.recipe.name}: OpenStack/TripleO container image from Debian packages (${p.recipe.packages.join(' ') || 'base system'})`,
    'org.opencontainers.image.vendor': 'overcloud',
    'org.opencontainers.image.base.name': p.recipe.parent ?? 'debian',
    'org.overcloud.image': p.recipe.name,
    'org.overcloud.build-key': p.key,
    'org.overcloud.main-package': p.mainPackage ?? '',
    'org.overcloud.debian-version': p.mainVersion ?? '',
    'org.overcloud.user': p.user,
    'org.overcloud.healthcheck': p.recipe.healthcheck ?? '',
  };
}

function localNamespace(namespace: string): string {
  const first = namespace.split('/')[0] ?? '';
  return looksLikeRegistry(first) ? namespace : `localhost/${namespace}`;
}

/** repoNames are the local repositories (no tag) an image is stored under. */
export function repoNames(
  p: PlannedImage,
  catalogue: ReadonlySet<string>,
  opts: { namespace: string; prefix: string },
): string[] {
  const ns = localNamespace(opts.namespace);
  return tagNames(p.recipe, catalogue).map((n) => `${ns}/${opts.prefix}${n}`);
}

/** withoutRegistry drops a leading registry host from a repository name. */
export function withoutRegistry(repo: string): string {
  const [first, ...rest] = repo.split('/');
  return first !== undefined && looksLikeRegistry(first) && rest.length > 0 ? rest.join('/') : repo;
}
