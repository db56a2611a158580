/**
 * @module image-build/recipes
 * Image recipes (templates/images/images.yaml): kolla's image tree as data. Parsing checks every
 * reference a build would trip over later (unknown parents, cycles, missing template files), so a
 * bad recipe fails before anything is built.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { templatesPath } from '../util/paths.js';
import { loadYamlFile, where, type YamlFile } from '../util/yaml.js';

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

const ImageSchema = z.strictObject({
  parent: z.string().regex(NAME).optional(),
  packages: z.array(z.string().regex(PACKAGE, 'must be a Debian package name')).default([]),
  main: z.string().regex(PACKAGE).optional(),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*$/)
    .optional(),
  files: z.record(z.string().min(1), z.string().regex(/^\//, 'must be an absolute path')).default({}),
  remove: z.array(z.string().regex(/^\/[^'\n]*$/, 'must be an absolute path without quotes')).default([]),
  healthcheck: z.string().min(1).optional(),
  serves: z.array(z.string().regex(NAME)).optional(),
  abstract: z.boolean().default(false),
});

const RecipesSchema = z.strictObject({
  bootstrap: z.strictObject({
    suite: z.string().regex(/^[a-z]+$/),
    variant: z.enum(['minbase', 'essential', 'apt', 'required', 'important', 'standard']),
    include: z.array(z.string().regex(PACKAGE)).default([]),
  }),
  cleanup: z.array(z.string().regex(/^\/[^'\n]*$/)).default([]),
  truncate: z.array(z.string().regex(/^\/[^'\n*?[\]]*$/, 'must be an absolute path, no globs')).default([]),
  unbuildable: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), z.string().min(1)).default({}),
  images: z.record(z.string().regex(NAME, 'image names are lower-case words joined by "-"'), ImageSchema),
});

type ImageFields = z.infer<typeof ImageSchema>;

/** Recipe is one image: its own fields plus its name; `parent` is undefined only for the root. */
export interface Recipe extends Omit<ImageFields, 'serves'> {
  name: string;
  /** Catalogue names served; undefined means "my own name, if the catalogue has it". */
  serves: string[] | undefined;
}

export interface Recipes {
  path: string;
  bootstrap: z.infer<typeof RecipesSchema>['bootstrap'];
  cleanup: string[];
  truncate: string[];
  unbuildable: Record<string, string>;
  /** Every image by name, in file order. */
  images: Map<string, Recipe>;
  /** The one image without a parent: the bootstrap base. */
  root: string;
}

/** defaultRecipesPath is the shipped recipe file. */
export function defaultRecipesPath(): string {
  return templatesPath('images', 'images.yaml');
}

/** filesRoot is where recipe `files` sources live. */
export function filesRoot(recipesPath: string): string {
  return recipesPath.replace(/[^/]*$/, 'files');
}

/**
 * parseRecipes validates the file's shape and its graph: one root, known parents, no cycles.
 * `fileExists` checks recipe `files` sources (injected so tests need no files on disk).
 */
export function parseRecipes(file: YamlFile, fileExists: (rel: string) => boolean = () => true): Recipes {
  const parsed = RecipesSchema.safeParse(file.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    throw new AppError('RECIPE_INVALID', `${where(file, path)}: ${path.join('.')}: ${issue?.message}`);
  }
  const images = new Map<string, Recipe>();
  for (const [name, fields] of Object.entries(parsed.data.images)) {
    images.set(name, { ...fields, name, serves: fields.serves });
  }
  const roots = [...images.values()].filter((r) => r.parent === undefined);
  if (roots.length !== 1) {
    throw new AppError(
      'RECIPE_INVALID',
      `${file.path}: exactly one image must have no parent (the bootstrap base); found ${roots.map((r) => r.name).join(', ') || 'none'}`,
    );
  }
  for (const r of images.values()) {
    if (r.parent !== undefined && !images.has(r.parent)) {
      throw new AppError(
        'RECIPE_INVALID',
        `${where(file, ['images', r.name, 'parent'])}: image "${r.name}" has unknown parent "${r.parent}"`,
      );
    }
    for (const src of Object.keys(r.files)) {
      if (src.includes('..') || src.startsWith('/') || !fileExists(src)) {
        throw new AppError(
          'RECIPE_INVALID',
          `${where(file, ['images', r.name, 'files'])}: image "${r.name}": no template file "${src}" under files/`,
        );
      }
    }
    ancestors(images, r.name, file.path);
  }
  return {
    path: file.path,
    bootstrap: parsed.data.bootstrap,
    cleanup: parsed.data.cleanup,
    truncate: parsed.data.truncate,
    unbuildable: parsed.data.unbuildable,
    images,
    root: (roots[0] as Recipe).name,
  };
}

/** ancestors lists an image's parents, nearest first; a cycle is a recipe error. */
export function ancestors(images: ReadonlyMap<string, Recipe>, name: string, path = 'recipes'): string[] {
  const chain: string[] = [];
  let cur = images.get(name)?.parent;
  while (cur !== undefined) {
    if (cur === name || chain.includes(cur)) {
      throw new AppError(
        'RECIPE_INVALID',
        `${path}: image "${name}" is its own ancestor (${[name, ...chain, cur].join(' -> ')})`,
      );
    }
    chain.push(cur);
    cur = images.get(cur)?.parent;
  }
  return chain;
}

/** mainPackage is the package whose version labels the image: `main`, the first package, or the parent's. */
export function mainPackage(images: ReadonlyMap<string, Recipe>, name: string): string | undefined {
  for (
    let r = images.get(name);
    r !== undefined;
    r = r.parent === undefined ? undefined : images.get(r.parent)
  ) {
    if (r.main !== undefined) return r.main;
    if (r.packages[0] !== undefined) return r.packages[0];
  }
  return undefined;
}

/** runUser is the user an image's command runs as: its own `user`, else inherited, else root. */
export function runUser(images: ReadonlyMap<string, Recipe>, name: string): string {
  for (
    let r = images.get(name);
    r !== undefined;
    r = r.parent === undefined ? undefined : images.get(r.parent)
  ) {
    if (r.user !== undefined) return r.user;
  }
  return 'root';
}

/** loadRecipes reads the given recipe file, or the shipped one. */
export async function loadRecipes(path?: string): Promise<Recipes> {
  const file = await loadYamlFile(path ?? defaultRecipesPath(), 'image recipes');
  const root = filesRoot(file.path);
  return parseRecipes(file, (rel) => existsSync(`${root}/${rel}`));
}
