/**
 * @module build/guest/key
 * The content key of a guest image: the recipe's fields, the bytes and modes of its template files,
 * the exact package versions the snapshot resolved, and the format of the build itself. The same
 * key means the same image bytes, so a key already in the cache is not rebuilt.
 */
import { createHash } from 'node:crypto';
import { stableJson } from '../cache-key.js';
import type { GuestRecipe } from './recipe.js';

/** Bump when the way the image is assembled changes (cpio layout, disk layout, tools' flags). */
export const GUEST_FORMAT = 1;

export interface GuestKeyInputs {
  recipe: GuestRecipe;
  /** package -> exact version (the kernel metapackage already resolved) */
  versions: Readonly<Record<string, string>>;
  /** SOURCE_DATE_EPOCH the build stamps into the image */
  epoch: number;
}

/** guestKey is the hex sha256 of the inputs (recipe path and file locations excluded). */
export function guestKey(inputs: GuestKeyInputs): string {
  const { path: _path, templates, ...fields } = inputs.recipe;
  const files = Object.fromEntries(
    templates.map((t) => [
      t.rel,
      `${t.mode.toString(8)}:${createHash('sha256').update(t.bytes).digest('hex')}`,
    ]),
  );
  return createHash('sha256')
    .update(
      stableJson({ format: GUEST_FORMAT, fields, files, versions: inputs.versions, epoch: inputs.epoch }),
    )
    .digest('hex');
}
