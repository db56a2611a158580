/**
 * @module prepare/catalogue
 * The image catalogue: which container images exist, the Heat parameters each fills and the
 * services that need it. Data, not code: templates/container-images/overcloud_containers.yaml
 * (TripleO's Pike template plus the Queens additions, in the Queens template's order: where several
 * entries name one parameter the last rendered wins), or a user's file of the same shape.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { templatesPath } from '../util/paths.js';
import { loadYamlFile, parseItem, type YamlFile } from '../util/yaml.js';

const ConditionSchema = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

const EntrySchema = z.looseObject({
  imagename: z.string().min(1),
  params: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be a Heat parameter name')).default([]),
  services: z.array(z.string()).default([]),
  when: ConditionSchema.optional(),
  unless: ConditionSchema.optional(),
  release: z.string().optional(),
});

const CatalogueSchema = z.object({ container_images_template: z.array(z.unknown()).min(1) });

export type CatalogueEntry = z.infer<typeof EntrySchema>;

export interface Catalogue {
  path: string;
  entries: CatalogueEntry[];
}

/** defaultCataloguePath is the shipped catalogue. */
export function defaultCataloguePath(): string {
  return templatesPath('container-images', 'overcloud_containers.yaml');
}

/** parseCatalogue validates a parsed catalogue file, naming the entry and field of any fault. */
export function parseCatalogue(file: YamlFile): Catalogue {
  const top = CatalogueSchema.safeParse(file.value);
  if (!top.success) {
    throw new AppError(
      'CATALOGUE_INVALID',
      `${file.path}: an image catalogue needs a non-empty "container_images_template" list`,
    );
  }
  const entries = top.data.container_images_template.map((item, i) =>
    parseItem(
      EntrySchema,
      item,
      file,
      ['container_images_template', i],
      `catalogue entry #${i + 1}`,
      'CATALOGUE_INVALID',
    ),
  );
  return { path: file.path, entries };
}

/** loadCatalogue reads the given catalogue, or the shipped one. */
export async function loadCatalogue(path?: string): Promise<Catalogue> {
  return parseCatalogue(await loadYamlFile(path ?? defaultCataloguePath(), 'image catalogue'));
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** renderImagename substitutes `{{var}}` placeholders; an unknown variable is a catalogue error. */
export function renderImagename(
  template: string,
  vars: Readonly<Record<string, string>>,
  entryIndex: number,
): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      throw new AppError(
        'CATALOGUE_INVALID',
        `catalogue entry #${entryIndex + 1} (${template}) uses the variable "${name}", which has no value`,
        { hint: `give it one with --set ${name}=VALUE` },
      );
    }
    return value;
  });
}

/** conditionHolds evaluates an entry's `when`/`unless` against the template variables. */
export function conditionHolds(entry: CatalogueEntry, vars: Readonly<Record<string, string>>): boolean {
  const matches = (name: string, want: string | string[]): boolean => {
    const value = vars[name] ?? '';
    return Array.isArray(want) ? want.includes(value) : want === value;
  };
  if (entry.when && !Object.entries(entry.when).every(([k, v]) => matches(k, v))) return false;
  if (entry.unless && Object.entries(entry.unless).some(([k, v]) => matches(k, v))) return false;
  return true;
}

/** shortName is the entry's image name without registry, namespace and tag (for messages). */
export function shortName(imagename: string): string {
  const last = imagename.slice(imagename.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return colon >= 0 ? last.slice(0, colon) : last;
}
