/**
 * @module upload/execute
 * Applies a plan: blob copies (bounded, largest first, retried with back-off; large ones resume),
 * mounts once their copy has landed, and each image's manifests once every blob it needs is in
 * place: children by digest, then the tag. A failure fails the images that need it, no others.
 */
import { errorMessage } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { PushOptions, RegistryClient, RegistrySession } from '../registry/index.js';
import { copyBlobChunked, registryOptions, withRetry } from '../registry/index.js';
import type { Limiter } from '../util/concurrency.js';
import { type Destination, type Destinations, isRegistry, registryDestinations } from './destination.js';
import type { BlobCopy, BlobMount, ImagePlan, UploadPlan } from './model.js';
import { describeImage } from './plan.js';
import type { Progress } from './progress.js';
import { registrySource } from './source.js';

export interface ImageOutcome {
  source: string;
  target: string;
  status: 'copied' | 'present' | 'failed';
  digest: string;
  error?: string;
}

export interface ExecuteResult {
  images: ImageOutcome[];
  bytesCopied: number;
  blobsCopied: number;
  blobsMounted: number;
}

/** Blobs up to this size do not count as transfers (see executePlan). */
const SMALL_BLOB_BYTES = 1024 * 1024;

/** BlobFailure names the blob, so an image's failure says which digest broke it. */
class BlobFailure extends Error {
  constructor(
    readonly digest: string,
    readonly reason: unknown,
  ) {
    super(`blob ${digest}: ${errorMessage(reason)}`);
  }
}

/**
 * executePlan runs the plan. `limit` bounds the layer transfers; mounts, manifest PUTs and copies
 * of small blobs (configs) move next to no bytes, so they go through `meta`, a wider limiter of
 * their own, instead of waiting behind the largest copies (with one shared limiter they formed a
 * tail after the last copy).
 */
export async function executePlan(
  session: RegistrySession,
  plan: UploadPlan,
  limit: Limiter,
  progress: Progress,
  meta: Limiter = limit,
  push: PushOptions = {},
  dest: Destinations = registryDestinations(session),
): Promise<ExecuteResult> {
  const done = new Map<string, Promise<void>>();
  let bytesCopied = 0;
  let blobsCopied = 0;
  let blobsMounted = 0;
  // The image a transfer is accounted to (for per-image progress): the first that needs it.
  const ownerOf = new Map<string, string>();
  for (const p of plan.images) {
    for (const k of p.needs) if (!ownerOf.has(k)) ownerOf.set(k, describeImage(p.image));
  }
  for (const key of plan.existing) done.set(key, Promise.resolve());
  for (const p of plan.images) {
    const own = plan.copies.filter((c) => ownerOf.get(c.key) === describeImage(p.image));
    progress.imageStart(
      describeImage(p.image),
      own.reduce((s, c) => s + c.desc.size, 0),
    );
  }

  // Small blobs (configs) cost round trips, not bandwidth: they go alongside the layer transfers
  // through the wide limiter, as manifests do. Queued behind the largest copies, they formed a tail
  // after the last layer, with every manifest waiting on them.
  const transfer = (c: BlobCopy | BlobMount): Promise<void> =>
    (c.desc.size <= SMALL_BLOB_BYTES ? meta : limit)(() =>
      copyBlob(session, dest(c.destHost), c, ownerOf.get(c.key) ?? c.key, progress, push),
    );

  for (const c of plan.copies) {
    done.set(
      c.key,
      transfer(c).then(
        () => {
          bytesCopied += c.desc.size;
          blobsCopied++;
          progress.blobDone(ownerOf.get(c.key) ?? c.key, c.desc.digest, c.desc.size, 'copied');
        },
        (e: unknown) => {
          throw new BlobFailure(c.desc.digest, e);
        },
      ),
    );
  }
  for (const m of plan.mounts) {
    const before = m.after ? done.get(m.after) : Promise.resolve();
    done.set(
      m.key,
      (async () => {
        await before;
        const to = dest(m.destHost);
        const mounted = await meta(() =>
          withRetry(session.retryOptions, () => to.mountBlob(m.destRepo, m.desc.digest, m.fromRepo)),
        );
        if (mounted) {
          blobsMounted++;
          progress.blobDone(ownerOf.get(m.key) ?? m.key, m.desc.digest, m.desc.size, 'mounted');
          return;
        }
        // The registry declined to mount (policy, or another backend): copy it after all.
        await transfer(m);
        bytesCopied += m.desc.size;
        blobsCopied++;
        progress.blobDone(ownerOf.get(m.key) ?? m.key, m.desc.digest, m.desc.size, 'copied');
      })().catch((e: unknown) => {
        throw e instanceof BlobFailure ? e : new BlobFailure(m.desc.digest, e);
      }),
    );
  }
  for (const p of done.values()) p.catch(() => {});

  const images = await Promise.all(plan.images.map((p) => finishImage(dest, p, done, meta, progress)));
  return { images, bytesCopied, blobsCopied, blobsMounted };
}

async function copyBlob(
  session: RegistrySession,
  dst: Destination,
  c: BlobCopy | BlobMount,
  owner: string,
  progress: Progress,
  push: PushOptions,
): Promise<void> {
  const registry = c.source === undefined ? session.client(c.sourceHost) : undefined;
  const source = c.source ?? registrySource(registry as RegistryClient, c.sourceRepo);
  const what = `blob ${c.desc.digest} of ${source.name}`;
  const onRetry = (e: unknown, attempt: number, wait: number) =>
    progress.retry(what, attempt, errorMessage(e), wait);
  if (
    registry &&
    isRegistry(dst) &&
    c.desc.size > (push.monolithicMax ?? registryOptions.MONOLITHIC_MAX_BYTES)
  ) {
    // Large, from a registry to a registry: chunks, and a failure resumes where the destination
    // stopped instead of from byte 0. (A local layout is cheap to read again, and a local store
    // has no request-size limit: both take the whole-blob path.)
    await copyBlobChunked(registry, c.sourceRepo, dst, c.destRepo, blobDesc(c.desc), {
      chunkSize: push.chunkSize,
      retry: session.retryOptions,
      onBytes: (n) => progress.bytes(owner, n),
      onRetry,
    });
    return;
  }
  await withRetry(
    session.retryOptions,
    async () => {
      await dst.pushBlob(
        c.destRepo,
        blobDesc(c.desc),
        source.blob(blobDesc(c.desc), (n) => progress.bytes(owner, n)),
        push,
      );
    },
    onRetry,
  );
}

function blobDesc(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

async function finishImage(
  dest: Destinations,
  p: ImagePlan,
  done: Map<string, Promise<void>>,
  limit: Limiter,
  progress: Progress,
): Promise<ImageOutcome> {
  const name = describeImage(p.image);
  const base = {
    source: name.split(' -> ')[0] ?? name,
    target: name.split(' -> ')[1] ?? name,
    digest: p.image.root.digest,
  };
  if (p.action === 'present') {
    progress.imageDone(name, 'present');
    return { ...base, status: 'present' };
  }
  try {
    const results = await Promise.allSettled(p.needs.map((k) => done.get(k) ?? Promise.resolve()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      // Never push a manifest whose blobs are not all verified and present.
      throw new Error(failures.map((f) => errorMessage(f.reason)).join('; '));
    }
    const t = p.image.task.target;
    const to = dest(t.registry);
    for (const m of p.manifests) {
      await limit(() => to.putManifest(t.repository, m.reference, m.raw));
    }
    progress.imageDone(name, 'copied');
    return { ...base, status: 'copied' };
  } catch (e) {
    const error = errorMessage(e);
    progress.imageDone(name, 'failed', error);
    return { ...base, status: 'failed', error };
  }
}
