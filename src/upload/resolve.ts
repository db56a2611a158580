/**
 * @module upload/resolve
 * The read-only stages before the plan: fetch every source manifest (and an index's children),
 * and ask the destinations what they already hold (tag HEADs meanwhile, then blob HEADs for the rest).
 */
import { AppError, errorMessage } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { formatReference, referenceTarget } from '../oci/reference.js';
import { blobsOf, type PlatformFilter, type RegistrySession, selectManifests } from '../registry/index.js';
import type { Limiter } from '../util/concurrency.js';
import { type Destinations, registryDestinations } from './destination.js';
import type { UploadTask } from './images-file.js';
import {
  type BlobLocation,
  type DestinationState,
  type ImageNode,
  type ResolvedImage,
  tagKey,
} from './model.js';
import { isPresent } from './plan.js';

export interface ResolveFailure {
  task: UploadTask;
  error: unknown;
}

/** resolveSources fetches manifests; a task that cannot be resolved fails alone. */
export async function resolveSources(
  session: RegistrySession,
  tasks: UploadTask[],
  platforms: PlatformFilter[],
  limit: Limiter,
): Promise<{ resolved: ResolvedImage[]; failed: ResolveFailure[] }> {
  const resolved: ResolvedImage[] = [];
  const failed: ResolveFailure[] = [];
  await Promise.all(
    tasks.map((task) =>
      limit(async () => {
        try {
          resolved.push(await resolveOne(session, task, platforms));
        } catch (error) {
          failed.push({ task, error });
        }
      }),
    ),
  );
  // Keep the file's order: results arrive in completion order.
  const order = new Map(tasks.map((t, i) => [t, i]));
  resolved.sort((a, b) => (order.get(a.task) ?? 0) - (order.get(b.task) ?? 0));
  return { resolved, failed };
}

async function resolveOne(
  session: RegistrySession,
  task: UploadTask,
  platforms: PlatformFilter[],
): Promise<ResolvedImage> {
  const src = session.client(task.source.registry);
  const repo = task.source.repository;
  const name = formatReference(task.source);
  const root = await src.getManifest(repo, referenceTarget(task.source));
  if (root.kind === 'image') {
    return {
      task,
      root: root.raw,
      images: [{ raw: root.raw, blobs: blobsOf(root.manifest) }],
      isIndex: false,
    };
  }
  const entries = selectManifests(root.manifest.manifests, platforms);
  if (entries.length === 0) {
    throw new AppError('MANIFEST_UNKNOWN', `${name} has no image for the platform asked for`);
  }
  const images: ImageNode[] = [];
  for (const e of entries) {
    const child = await src.getManifest(repo, e.digest);
    if (child.kind !== 'image')
      throw new AppError('MANIFEST_UNSUPPORTED', `${name}: nested index ${e.digest}`);
    images.push({ raw: child.raw, blobs: blobsOf(child.manifest) });
  }
  if (platforms.length > 0) {
    // One platform chosen: the tag names that platform's image (a filtered index would be a new
    // manifest with a new digest, which is not the image that was asked for).
    if (images.length > 1) {
      throw new AppError(
        'USAGE',
        `${name}: --platform matches ${images.length} images; name one os/arch/variant`,
      );
    }
    const only = images[0] as ImageNode;
    return { task, root: only.raw, images: [only], isIndex: false };
  }
  return { task, root: root.raw, images, isIndex: true };
}

/**
 * headTargetTags asks each destination what its target tag names now. It needs only the images
 * file, so it runs while the sources are still being resolved.
 */
export async function headTargetTags(
  session: RegistrySession,
  tasks: UploadTask[],
  limit: Limiter,
  dest: Destinations = registryDestinations(session),
): Promise<Map<string, Digest>> {
  const tags = new Map<string, Digest>();
  await Promise.all(
    tasks.map((task) =>
      limit(async () => {
        const t = task.target;
        const ref = referenceTarget(t);
        // A destination that cannot be asked is treated as empty: the copy then fails for this
        // image alone, with the real reason, instead of failing the whole run here.
        const d = await dest(t.registry)
          .headManifest(t.repository, ref)
          .catch(() => undefined);
        if (d) tags.set(tagKey(t.registry, t.repository, ref), d.digest);
      }),
    ),
  );
  return tags;
}

/**
 * inspectDestinations HEADs the blobs of images whose tag is not current (and the tags, unless
 * given): each blob once per destination registry, in the first repository (in file order) that
 * needs it. That is where planUpload copies it (and where an interrupted run left it); every other
 * repository gets a mount, which costs one request whether or not the blob is already linked
 * there, so asking those repositories first would only add a request each.
 */
export async function inspectDestinations(
  session: RegistrySession,
  images: ResolvedImage[],
  limit: Limiter,
  known?: ReadonlyMap<string, Digest>,
  dest: Destinations = registryDestinations(session),
): Promise<DestinationState> {
  // Tags already asked for (uploadTasks asks while resolving), or asked now.
  const tags =
    known ??
    (await headTargetTags(
      session,
      images.map((i) => i.task),
      limit,
      dest,
    ));
  const blobs: BlobLocation[] = [];
  const probed = new Set<string>();
  const heads: Promise<void>[] = [];
  for (const img of images) {
    if (isPresent(img, { tags })) continue;
    const t = img.task.target;
    for (const node of img.images) {
      for (const b of node.blobs) {
        const where = `${t.registry}@${b.digest}`;
        if (probed.has(where)) continue;
        probed.add(where);
        heads.push(
          limit(async () => {
            const present = await dest(t.registry)
              .blobExists(t.repository, b)
              .catch(() => false);
            if (present) blobs.push({ host: t.registry, repository: t.repository, digest: b.digest });
          }),
        );
      }
    }
  }
  await Promise.all(heads);
  return { tags, blobs };
}

/** reason renders an error for the summary. */
export function reason(e: unknown): string {
  return errorMessage(e);
}
