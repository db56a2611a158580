/**
 * @module upload/execute
 * Carries out a plan (./model.ts): blob copies (bounded, largest first, retried with back-off;
 * large ones resume), mounts once their copy has landed, and each image's manifests once every
 * blob it needs is in place: children by digest, then the tag. A failure fails the images that
 * need it, no others. The plan names its sources; the executor opens them.
 */
import { AppError, errorMessage } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { PushOptions, RawManifest, RegistrySession } from '../registry/index.js';
import { copyBlobChunked, registryOptions, withRetry } from '../registry/index.js';
import type { Limiter } from '../util/concurrency.js';
import { type Destination, type Destinations, isRegistry, registryDestinations } from './destination.js';
import { OciLayoutSource } from './layout-source.js';
import {
  type BlobCopy,
  type BlobMount,
  type ImagePlan,
  locationKey,
  type SourceRef,
  type UploadPlan,
} from './model.js';
import type { Progress } from './progress.js';
import { type BlobSource, registrySource } from './source.js';

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

/** What executePlan works with besides the plan. */
export interface ExecuteDeps {
  session: RegistrySession;
  /** Manifest bytes by digest (manifestBodies of the resolved images). */
  manifests: ReadonlyMap<string, RawManifest>;
  /** Bounds the layer transfers. */
  limit: Limiter;
  /** Mounts, manifest PUTs and small blobs: a wider limiter of their own (see executePlan). */
  meta?: Limiter;
  progress: Progress;
  push?: PushOptions;
  dest?: Destinations;
}

/** Blobs up to this size do not count as transfers (see executePlan). */
const SMALL_BLOB_BYTES = 1024 * 1024;

/** BlobFailure names the blob, so an image's failure says which digest broke it. */
class BlobFailure extends AppError {
  constructor(digest: string, reason: unknown) {
    super('BLOB_FAILED', `blob ${digest}: ${errorMessage(reason)}`, { cause: reason });
  }
}

/**
 * executePlan runs the plan. `limit` bounds the layer transfers; mounts, manifest PUTs and copies
 * of small blobs (configs) move next to no bytes, so they go through `meta`, a wider limiter of
 * their own, instead of waiting behind the largest copies (with one shared limiter they formed a
 * tail after the last copy).
 */
export async function executePlan(plan: UploadPlan, deps: ExecuteDeps): Promise<ExecuteResult> {
  const { session, limit, progress } = deps;
  const meta = deps.meta ?? limit;
  const push = deps.push ?? {};
  const dest = deps.dest ?? registryDestinations(session);
  const done = new Map<string, Promise<void>>();
  let bytesCopied = 0;
  let blobsCopied = 0;
  let blobsMounted = 0;
  // The image a transfer is accounted to (for per-image progress): the first that needs it.
  const ownerOf = new Map<string, string>();
  for (const p of plan.images) {
    for (const l of p.needs) if (!ownerOf.has(locationKey(l))) ownerOf.set(locationKey(l), p.name);
  }
  const owner = (c: BlobCopy | BlobMount): string => ownerOf.get(locationKey(c.to)) ?? locationKey(c.to);
  for (const l of plan.existing) done.set(locationKey(l), Promise.resolve());
  for (const p of plan.images) {
    const own = plan.copies.filter((c) => owner(c) === p.name);
    progress.imageStart(
      p.name,
      own.reduce((s, c) => s + c.blob.size, 0),
    );
  }
  const sources = sourceOpener(session);

  // Small blobs (configs) cost round trips, not bandwidth: they go alongside the layer transfers
  // through the wide limiter, as manifests do. Queued behind the largest copies, they formed a tail
  // after the last layer, with every manifest waiting on them.
  const transfer = (c: BlobCopy | BlobMount): Promise<void> =>
    (c.blob.size <= SMALL_BLOB_BYTES ? meta : limit)(() =>
      copyBlob(session, sources, dest(c.to.host), c, owner(c), progress, push),
    );

  for (const c of plan.copies) {
    done.set(
      locationKey(c.to),
      transfer(c).then(
        () => {
          bytesCopied += c.blob.size;
          blobsCopied++;
          progress.blobDone(owner(c), c.blob.digest, c.blob.size, 'copied');
        },
        (e: unknown) => {
          throw new BlobFailure(c.blob.digest, e);
        },
      ),
    );
  }
  for (const m of plan.mounts) {
    const before = m.after ? done.get(locationKey(m.after)) : Promise.resolve();
    done.set(
      locationKey(m.to),
      (async () => {
        await before;
        const to = dest(m.to.host);
        const mounted = await meta(() =>
          withRetry(session.retryOptions, () =>
            to.mountBlob(m.to.repository, m.blob.digest, m.fromRepository),
          ),
        );
        if (mounted) {
          blobsMounted++;
          progress.blobDone(owner(m), m.blob.digest, m.blob.size, 'mounted');
          return;
        }
        // The registry declined to mount (policy, or another backend): copy it after all.
        await transfer(m);
        bytesCopied += m.blob.size;
        blobsCopied++;
        progress.blobDone(owner(m), m.blob.digest, m.blob.size, 'copied');
      })().catch((e: unknown) => {
        throw e instanceof BlobFailure ? e : new BlobFailure(m.blob.digest, e);
      }),
    );
  }
  for (const p of done.values()) p.catch(() => {});

  const images = await Promise.all(
    plan.images.map((p) => finishImage(dest, p, deps.manifests, done, meta, progress)),
  );
  return { images, bytesCopied, blobsCopied, blobsMounted };
}

/** sourceOpener opens a plan's source once per registry repository or layout folder. */
function sourceOpener(session: RegistrySession): (ref: SourceRef) => BlobSource {
  const open = new Map<string, BlobSource>();
  return (ref) => {
    const key = ref.kind === 'layout' ? `oci:${ref.dir}` : `${ref.host}/${ref.repository}`;
    let s = open.get(key);
    if (s === undefined) {
      s =
        ref.kind === 'layout'
          ? OciLayoutSource.blobsAt(ref.dir)
          : registrySource(session.client(ref.host), ref.repository);
      open.set(key, s);
    }
    return s;
  };
}

async function copyBlob(
  session: RegistrySession,
  sources: (ref: SourceRef) => BlobSource,
  dst: Destination,
  c: BlobCopy | BlobMount,
  owner: string,
  progress: Progress,
  push: PushOptions,
): Promise<void> {
  const from = 'from' in c ? c.from : c.fallback;
  const source = sources(from);
  const what = `blob ${c.blob.digest} of ${source.name}`;
  const onRetry = (e: unknown, attempt: number, wait: number) =>
    progress.retry(what, attempt, errorMessage(e), wait);
  if (
    from.kind === 'registry' &&
    isRegistry(dst) &&
    c.blob.size > (push.monolithicMax ?? registryOptions.MONOLITHIC_MAX_BYTES)
  ) {
    // Large, from a registry to a registry: chunks, and a failure resumes where the destination
    // stopped instead of from byte 0. (A local layout is cheap to read again, and a local store
    // has no request-size limit: both take the whole-blob path.)
    await copyBlobChunked(
      session.client(from.host),
      from.repository,
      dst,
      c.to.repository,
      blobDesc(c.blob),
      {
        chunkSize: push.chunkSize,
        retry: session.retryOptions,
        onBytes: (n) => progress.bytes(owner, n),
        onRetry,
      },
    );
    return;
  }
  await withRetry(
    session.retryOptions,
    async () => {
      await dst.pushBlob(
        c.to.repository,
        blobDesc(c.blob),
        source.blob(blobDesc(c.blob), (n) => progress.bytes(owner, n)),
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
  manifests: ReadonlyMap<string, RawManifest>,
  done: Map<string, Promise<void>>,
  limit: Limiter,
  progress: Progress,
): Promise<ImageOutcome> {
  const base = { source: p.source, target: p.target, digest: p.digest };
  if (p.action === 'present') {
    progress.imageDone(p.name, 'present');
    return { ...base, status: 'present' };
  }
  try {
    const results = await Promise.allSettled(
      p.needs.map((l) => done.get(locationKey(l)) ?? Promise.resolve()),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      // Never push a manifest whose blobs are not all verified and present.
      throw new AppError('UPLOAD_FAILED', failures.map((f) => errorMessage(f.reason)).join('; '));
    }
    const to = dest(p.to.host);
    for (const m of p.manifests) {
      const raw = manifests.get(m.digest);
      if (raw === undefined)
        throw new AppError(
          'INTERNAL',
          `${p.name}: the plan names manifest ${m.digest}, which was not resolved`,
        );
      await limit(() => to.putManifest(p.to.repository, m.reference, raw));
    }
    progress.imageDone(p.name, 'copied');
    return { ...base, status: 'copied' };
  } catch (e) {
    const error = errorMessage(e);
    progress.imageDone(p.name, 'failed', error);
    return { ...base, status: 'failed', error };
  }
}
