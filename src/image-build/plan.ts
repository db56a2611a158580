/**
 * @module image-build/plan
 * Which images a build makes and in what order, and which catalogue entries they serve. Pure: the
 * same recipes, catalogue names and filters always give the same plan.
 */
import { AppError } from '../errors.js';
import { ancestors, type Recipe, type Recipes } from './recipes.js';

export interface SelectOptions {
  include?: string;
  exclude?: string;
}

function regex(source: string, flag: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new AppError(
      'REGEX_INVALID',
      `${flag} ${JSON.stringify(source)} is not a valid regular expression`,
      {
        cause: e,
      },
    );
  }
}

/**
 * selectImages picks images as kolla does: an image is wanted when its name matches --include
 * (all when absent) and not --exclude; every wanted image brings its ancestors. The result is in
 * build order: parents before children, otherwise recipe-file order.
 */
export function selectImages(recipes: Recipes, opts: SelectOptions = {}): Recipe[] {
  const inc = opts.include === undefined ? undefined : regex(opts.include, '--include');
  const exc = opts.exclude === undefined ? undefined : regex(opts.exclude, '--exclude');
  const wanted = new Set<string>();
  for (const name of recipes.images.keys()) {
    if (inc && !inc.test(name)) continue;
    if (exc?.test(name)) continue;
    wanted.add(name);
    for (const a of ancestors(recipes.images, name, recipes.path)) wanted.add(a);
  }
  if (wanted.size === 0) {
    throw new AppError('USAGE', 'no image matches the --include/--exclude filters', {
      hint: 'overcloud image build --list shows the image names',
    });
  }
  return buildOrder(recipes).filter((r) => wanted.has(r.name));
}

/** buildOrder sorts all images so that each comes after its parent (depth first, then file order). */
export function buildOrder(recipes: Recipes): Recipe[] {
  const all = [...recipes.images.values()];
  const depth = new Map(all.map((r) => [r.name, ancestors(recipes.images, r.name, recipes.path).length]));
  const index = new Map(all.map((r, i) => [r.name, i]));
  return all.sort(
    (a, b) =>
      (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) ||
      (index.get(a.name) ?? 0) - (index.get(b.name) ?? 0),
  );
}

/** servedNames are the catalogue names an image is tagged as (its own name first when served). */
export function servedNames(recipe: Recipe, catalogueNames: ReadonlySet<string>): string[] {
  if (recipe.serves !== undefined) return recipe.serves;
  return catalogueNames.has(recipe.name) ? [recipe.name] : [];
}

/**
 * tagNames are the repository names an image gets: its own plus what it serves. Parent-only images
 * are tagged too (kolla pushes nova-base and friends), so storage never holds them untagged.
 */
export function tagNames(recipe: Recipe, catalogueNames: ReadonlySet<string>): string[] {
  const names = [recipe.name];
  for (const s of servedNames(recipe, catalogueNames)) if (!names.includes(s)) names.push(s);
  return names;
}

export interface CatalogueCoverage {
  /** catalogue name -> image serving it */
  served: Map<string, string>;
  /** catalogue name -> why no image serves it */
  unbuildable: Map<string, string>;
  /** catalogue names neither served nor explained: a recipe gap */
  unexplained: string[];
  /** names in `serves` or `unbuildable` that the catalogue does not have: stale recipe data */
  unknown: string[];
}

/** coverage matches the catalogue against the recipes; every entry must be served or explained. */
export function coverage(recipes: Recipes, catalogueNames: ReadonlySet<string>): CatalogueCoverage {
  const served = new Map<string, string>();
  const unknown: string[] = [];
  for (const r of recipes.images.values()) {
    for (const s of servedNames(r, catalogueNames)) {
      if (!catalogueNames.has(s)) unknown.push(s);
      else if (!served.has(s)) served.set(s, r.name);
    }
  }
  const unbuildable = new Map<string, string>();
  for (const [name, why] of Object.entries(recipes.unbuildable)) {
    if (!catalogueNames.has(name)) unknown.push(name);
    else if (!served.has(name)) unbuildable.set(name, why);
  }
  const unexplained = [...catalogueNames].filter((n) => !served.has(n) && !unbuildable.has(n)).sort();
  return { served, unbuildable, unexplained, unknown: unknown.sort() };
}

/** formatList renders `--list` (and with `all`, the catalogue entries no image can serve). */
export function formatList(
  recipes: Recipes,
  catalogueNames: ReadonlySet<string>,
  opts: { all: boolean; prefix: string; selected?: readonly Recipe[] },
): string {
  const lines: string[] = [];
  for (const r of opts.selected ?? buildOrder(recipes)) {
    const serves = servedNames(r, catalogueNames);
    const what =
      r.parent === undefined
        ? `mmdebstrap ${recipes.bootstrap.variant} ${recipes.bootstrap.suite}`
        : `FROM ${r.parent}`;
    lines.push(
      `${opts.prefix}${r.name}${r.abstract ? ' (parent only)' : ''}  ${what}  packages: ${r.packages.join(' ') || '-'}  serves: ${serves.join(' ') || '-'}`,
    );
  }
  if (opts.all) {
    const cov = coverage(recipes, catalogueNames);
    lines.push('', 'catalogue entries no image serves:');
    for (const [name, why] of [...cov.unbuildable].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`${name}  ${why}`);
    }
    for (const name of cov.unexplained) lines.push(`${name}  no recipe (not yet looked at)`);
  }
  return `${lines.join('\n')}\n`;
}
