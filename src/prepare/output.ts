/**
 * @module prepare/output
 * The two files prepare writes, in TripleO's formats: the Heat environment of image parameters and
 * the images file that `container image upload` reads.
 */
import { stringify } from 'yaml';
import type { PreparedImage } from './prepare.js';

export const INSECURE_PARAM = 'DockerInsecureRegistryAddress';

export interface EnvFileInput {
  params: Record<string, string>;
  insecureRegistries: string[];
  generatedAt: Date;
  commandLine: string;
}

const sortedRecord = <T>(r: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** renderEnvFile: a comment header (time, command line), then sorted `parameter_defaults`. */
export function renderEnvFile(input: EnvFileInput): string {
  const defaults: Record<string, unknown> = { ...input.params };
  if (input.insecureRegistries.length > 0) defaults[INSECURE_PARAM] = [...input.insecureRegistries].sort();
  const header = [
    `# Generated with the following on ${input.generatedAt.toISOString()}`,
    '#',
    `#   ${input.commandLine}`,
    '#',
    '',
  ].join('\n');
  return `${header}\n${stringify({ parameter_defaults: sortedRecord(defaults) }, { lineWidth: 0, indentSeq: false })}`;
}

/** imagesFileEntries: `imagename` plus `pull_source`/`push_destination` when set, keys sorted. */
export function imagesFileEntries(images: PreparedImage[]): Record<string, string>[] {
  return images.map((img) => {
    const entry: Record<string, string> = { imagename: img.imagename };
    if (img.pullSource) entry.pull_source = img.pullSource;
    if (img.pushDestination) entry.push_destination = img.pushDestination;
    return entry;
  });
}

/** renderImagesFile renders the `container_images:` YAML (or JSON for --format json). */
export function renderImagesFile(images: PreparedImage[], format: 'yaml' | 'json' = 'yaml'): string {
  const doc = { container_images: imagesFileEntries(images) };
  return format === 'json'
    ? `${JSON.stringify(doc, null, 2)}\n`
    : stringify(doc, { lineWidth: 0, indentSeq: false });
}
