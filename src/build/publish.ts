/**
 * @module build/publish
 * Names and registries: tag each image under its repositories (only the names it lacks, so a
 * no-change run spends no time here), and push to a registry.
 */
import { join } from 'node:path';
import { AppError, errorMessage } from '../errors.js';
import type { BuildOptions, ImageResult } from './builder.js';
import { withoutRegistry } from './keys.js';
import { pushImage, type StoredImage, tagImage } from './podman.js';

/** tagMissing adds the repo:tag names an image does not have yet. */
export async function tagMissing(
  id: string,
  repos: readonly string[],
  tags: readonly string[],
  stored: StoredImage | undefined,
): Promise<void> {
  const have = new Set(stored?.names ?? []);
  const want = repos.flatMap((r) => tags.map((t) => `${r}:${t}`)).filter((n) => !have.has(n));
  await tagImage(id, want);
}

/** pushAll copies every built image to the registry, parents first, one at a time so each shared layer is sent once. */
export async function pushAll(
  images: ImageResult[],
  opts: BuildOptions,
  cache: string,
  say: (l: string) => void,
): Promise<void> {
  const failures: string[] = [];
  for (const img of images) {
    if (img.id === undefined) continue;
    for (const repo of img.names) {
      for (const tag of [opts.tag, ...(img.versionTag === undefined ? [] : [img.versionTag])]) {
        const local = `${repo}:${tag}`;
        const dest = `${opts.push}/${withoutRegistry(repo)}:${tag}`;
        try {
          await pushImage(local, dest, join(cache, 'logs', `push-${img.name}.log`));
          say(`pushed ${dest}`);
        } catch (e) {
          failures.push(`${dest}: ${errorMessage(e)}`);
        }
      }
    }
  }
  if (failures.length > 0) {
    throw new AppError(
      'UPLOAD_FAILED',
      `${failures.length} push(es) failed: ${failures.slice(0, 3).join('; ')}`,
    );
  }
}
