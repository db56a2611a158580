/**
 * @module image-build/cache-key
 * The content key of an image: a hash of everything its layer is made from. Two builds with the
 * same key produce an equivalent layer, so a key already present in local storage is not rebuilt.
 *
 * Inputs: the recipe fields, the bytes of its template files, the parent's key (so a rebuilt parent
 * rebuilds its children), the package snapshot (the InRelease files of the apt lists every RUN
 * installs from: a change in the mirror's package versions changes it), and the candidate versions
 * of the image's own packages (so the key, and --list, say which version went in).
 */
import { createHash } from 'node:crypto';
import type { Recipe } from './recipes.js';

/** Bump when the way a layer is produced changes (Containerfile shape, cleanup rules). */
export const BUILD_FORMAT = 2;

export interface KeyInputs {
  recipe: Recipe;
  parentKey: string | undefined;
  /** template file (relative path) -> sha256 of its bytes and mode */
  files: Readonly<Record<string, string>>;
  /** hash of the package index snapshot the layer installs from */
  snapshot: string;
  /** package -> candidate version */
  versions: Readonly<Record<string, string>>;
  /** global settings that change every layer (cleanup list, bootstrap options) */
  global: unknown;
}

/** stableJson serialises with sorted object keys, so that key order in YAML does not matter. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** cacheKey is the hex sha256 of the inputs. */
export function cacheKey(inputs: KeyInputs): string {
  return createHash('sha256')
    .update(stableJson({ format: BUILD_FORMAT, ...inputs }))
    .digest('hex');
}
