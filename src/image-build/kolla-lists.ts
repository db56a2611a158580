/**
 * @module build/kolla-lists
 * kolla-build's `--list-images`, `--list-dependencies` and a dry run's names, for the selected
 * images (lists are pure: recipes and selection in, text out).
 */
import { repoNames, withoutRegistry } from './keys.js';
import type { Recipe } from './recipes.js';

/** listImages is kolla's `--list-images`: `N : name`, numbered from 1, in build order. */
export function listImages(selected: readonly Recipe[]): string {
  return selected.map((r, i) => `${i + 1} : ${r.name}\n`).join('');
}

type Tree = (string | { [name: string]: Tree })[];

/**
 * listDependencies is kolla's `--list-dependencies`: the selected images as a tree from the base
 * image, a parent as `{name: [children]}` and an image without selected children as its name.
 */
export function listDependencies(selected: readonly Recipe[]): string {
  const children = new Map<string, Recipe[]>();
  for (const r of selected)
    if (r.parent !== undefined) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const node = (r: Recipe): string | { [name: string]: Tree } => {
    const kids = children.get(r.name) ?? [];
    return kids.length === 0 ? r.name : { [r.name]: kids.map(node) };
  };
  const roots = selected.filter((r) => r.parent === undefined);
  const tree = roots.map((r) => {
    const n = node(r);
    return typeof n === 'string' ? { [n]: [] } : n;
  });
  return `${JSON.stringify(tree.length === 1 ? tree[0] : tree, null, 2)}\n`;
}

/** repoNamesOf: the repositories of one recipe (repoNames reads only the plan's recipe). */
function repoNamesOf(
  recipe: Recipe,
  catalogue: ReadonlySet<string>,
  opts: { namespace: string; prefix: string },
) {
  return repoNames({ recipe } as Parameters<typeof repoNames>[0], catalogue, opts);
}

/** pushNames are the registry names a build pushes for the selected images (build tag only). */
export function pushNames(
  selected: readonly Recipe[],
  catalogue: ReadonlySet<string>,
  opts: { namespace: string; prefix: string; tag: string; registry: string },
): string[] {
  return selected.flatMap((recipe) =>
    repoNamesOf(recipe, catalogue, opts).map(
      (repo) => `${opts.registry}/${withoutRegistry(repo)}:${opts.tag}`,
    ),
  );
}

/** localNames are the local names a build tags for the selected images (build tag only). */
export function localNames(
  selected: readonly Recipe[],
  catalogue: ReadonlySet<string>,
  opts: { namespace: string; prefix: string; tag: string },
): string[] {
  return selected.flatMap((recipe) =>
    repoNamesOf(recipe, catalogue, opts).map((repo) => `${repo}:${opts.tag}`),
  );
}
