/**
 * @module prepare/tag-from-label
 * `--tag-from-label`: the tag of each image comes from its own config labels, e.g. `{version}-{release}`
 * or just `rdo_version`, and must exist in the repository's tag list.
 */
import { AppError, errorMessage } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import type { PreparedImage } from './prepare.js';

/** LabelSource reads an image's config labels and its repository's tags (the registry client). */
export interface LabelSource {
  labels(imagename: string): Promise<Record<string, string>>;
  tags(imagename: string): Promise<string[]>;
}

/** How many images are inspected at once (TripleO used a pool of 16). */
export const TAG_DISCOVERY_PARALLELISM = 16;

/** renderLabelTemplate fills `{label}` placeholders, or reads one label when there are none. */
export function renderLabelTemplate(template: string, labels: Record<string, string>): string | undefined {
  if (!template.includes('{')) return labels[template];
  let missing = false;
  const out = template.replace(/\{([^{}]+)\}/g, (_m, name: string) => {
    const v = labels[name];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

/**
 * discoverTags returns imagename -> discovered tag. An image without the labels keeps its tag (with a
 * warning, as TripleO did for Ceph); a discovered tag that the repository lacks is an error.
 */
export async function discoverTags(
  images: PreparedImage[],
  template: string,
  source: LabelSource,
  warn: (m: string) => void,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const failures: string[] = [];
  await mapLimit(images, TAG_DISCOVERY_PARALLELISM, async (img) => {
    try {
      const tag = renderLabelTemplate(template, await source.labels(img.imagename));
      if (tag === undefined) {
        warn(`${img.imagename}: no label for "${template}"; keeping its tag`);
        return;
      }
      const tags = await source.tags(img.imagename);
      if (!tags.includes(tag)) {
        failures.push(`${img.imagename}: labels give tag "${tag}", which the repository does not have`);
        return;
      }
      found.set(img.imagename, tag);
    } catch (e) {
      failures.push(`${img.imagename}: ${errorMessage(e)}`);
    }
  });
  if (failures.length > 0) {
    throw new AppError(
      'TAG_NOT_FOUND',
      `--tag-from-label ${template} failed for ${failures.length} image(s):\n  ${failures.sort().join('\n  ')}`,
    );
  }
  return found;
}
