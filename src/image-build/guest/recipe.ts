/**
 * @module image-build/guest/recipe
 * The guest image's recipe (templates/guest/guest.yaml) and its template files (files/ goes into
 * the initramfs as is, boot/ onto the FAT partition). Parsing checks the shape and names the line of
 * a bad field, before anything is downloaded.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { templatesPath } from '../../util/paths.js';
import { loadYamlFile, where } from '../../util/yaml.js';

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
const REL = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._+/-]+$/;

const RecipeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  kernel: z.strictObject({
    package: z.string().regex(PACKAGE),
    cmdline: z.string().regex(/^[^\n@]*$/, 'one line, no "@"'),
  }),
  modules: z.array(z.string().regex(/^[a-z0-9_-]+$/, 'a kernel module name')).min(1),
  files: z
    .array(
      z.strictObject({
        package: z.string().regex(PACKAGE),
        path: z.string().regex(REL, 'a relative path inside the package'),
        to: z.string().regex(REL, 'a relative path inside the guest').optional(),
      }),
    )
    .min(1),
  tools: z.array(z.string().regex(PACKAGE)),
  disk: z.strictObject({
    size_mib: z.number().int().min(8).max(1024),
    start_sector: z.number().int().min(1),
    partition_type: z.number().int().min(1).max(255),
    disk_signature: z.number().int().min(0).max(0xffffffff),
    fat_serial: z.number().int().min(0).max(0xffffffff),
    fat_label: z.string().regex(/^[A-Z0-9_-]{1,11}$/, 'at most 11 upper-case letters, digits, "-" or "_"'),
  }),
  source_date_epoch: z.number().int().min(315532800, 'FAT cannot store times before 1980'),
});

export type GuestRecipeFields = z.infer<typeof RecipeSchema>;

export interface TemplateFile {
  /** path relative to the recipe's folder, e.g. files/init */
  rel: string;
  abs: string;
  mode: number;
  bytes: Buffer;
}

export interface GuestRecipe extends GuestRecipeFields {
  path: string;
  /** every file under files/ and boot/, sorted by path */
  templates: TemplateFile[];
  /** the packages to fetch: the kernel, every `files` package and the tools, sorted, once each */
  packages: string[];
}

/** defaultGuestRecipePath is the shipped recipe. */
export function defaultGuestRecipePath(): string {
  return templatesPath('guest', 'guest.yaml');
}

async function listFiles(root: string, sub: string): Promise<TemplateFile[]> {
  const out: TemplateFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile()) {
        const st = await stat(abs);
        // Only the executable bit is kept by git; everything else is 0644.
        out.push({
          rel: relative(root, abs),
          abs,
          mode: st.mode & 0o111 ? 0o755 : 0o644,
          bytes: await readFile(abs),
        });
      } else throw new AppError('RECIPE_INVALID', `${abs}: only plain files may be guest templates`);
    }
  };
  await walk(join(root, sub)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  return out;
}

/** loadGuestRecipe reads and checks the recipe and reads its template files. */
export async function loadGuestRecipe(path = defaultGuestRecipePath()): Promise<GuestRecipe> {
  const file = await loadYamlFile(path, 'guest recipe');
  const parsed = RecipeSchema.safeParse(file.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    throw new AppError('RECIPE_INVALID', `${where(file, at)}: ${at.join('.') || '(top)'}: ${issue?.message}`);
  }
  const root = dirname(path);
  const templates = [...(await listFiles(root, 'files')), ...(await listFiles(root, 'boot'))].sort((a, b) =>
    a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0,
  );
  for (const need of ['files/init', 'boot/syslinux.cfg']) {
    if (!templates.some((t) => t.rel === need))
      throw new AppError('RECIPE_INVALID', `${path}: the guest needs ${join(root, need)}`);
  }
  const r = parsed.data;
  const packages = [...new Set([r.kernel.package, ...r.files.map((f) => f.package), ...r.tools])].sort();
  return { ...r, path, templates, packages };
}
