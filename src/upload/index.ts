/**
 * @module upload
 * `container image upload` as a short script of stages: read the images files, resolve the
 * sources, inspect the destinations, plan (pure), execute, summarise. Nothing is written before
 * the plan exists; re-running after any interruption finds what is there and copies the rest.
 */
import { formatReference } from '../oci/reference.js';
import {
  type PlatformFilter,
  type PushOptions,
  RegistrySession,
  registryOptions,
  type SessionOptions,
} from '../registry/index.js';
import { type Limiter, limiter } from '../util/concurrency.js';
import { type Destinations, registryDestinations } from './destination.js';
import { type ExecuteResult, executePlan, type ImageOutcome } from './execute.js';
import { readImagesFiles, type UploadTask, undercloudRegistries } from './images-file.js';
import type { BlobLocation, ResolvedImage, UploadPlan } from './model.js';
import { manifestBodies, planUpload } from './plan.js';
import { type Progress, silentProgress } from './progress.js';
import { headTargetTags, inspectDestinations, reason, resolveSources } from './resolve.js';
import { localStores } from './store-destination.js';

export type { Destinations } from './destination.js';
export type { ExecuteResult, ImageOutcome } from './execute.js';
export {
  entriesFromText,
  readImagesFiles,
  targetRepository,
  tasksFromEntries,
  type UploadTask,
} from './images-file.js';
export { OciLayoutSource, REF_NAME } from './layout-source.js';
export type {
  BlobCopy,
  BlobLocation,
  BlobMount,
  DestinationState,
  ImagePlan,
  ManifestPush,
  RepoRef,
  ResolvedImage,
  SourceRef,
  UploadPlan,
} from './model.js';
export { describePlan, manifestBodies, planUpload } from './plan.js';
export { lineProgress, type Progress, silentProgress } from './progress.js';
export { type BlobSource, type ImageSource, registrySource } from './source.js';

export interface UploadOptions extends SessionOptions {
  configFiles: string[];
  parallel?: number;
  platforms?: PlatformFilter[];
  progress?: Progress;
  /** Where uploads switch to PATCH chunks, and their size (defaults in registry/options). */
  push?: PushOptions;
  /**
   * Write into the store of a registry that runs on this machine instead of pushing to it over
   * HTTP (./store-destination.ts). Default true; false always uses HTTP.
   */
  directStore?: boolean;
  /** Stop after the plan: ask the sources and destinations (read only), write nothing. */
  dryRun?: boolean;
}

/** What `upload --dry-run` reports: the plan, and the images that could not even be resolved. */
export interface UploadDryRun {
  plan: UploadPlan;
  unresolved: { image: string; reason: string }[];
  /** Destination hosts whose store would be written in place (host -> store folder). */
  direct_stores: Record<string, string>;
}

export interface UploadSummary {
  images: ImageOutcome[];
  images_total: number;
  images_copied: number;
  images_present: number;
  images_failed: number;
  bytes_transferred: number;
  blobs_transferred: number;
  blobs_mounted: number;
  blobs_skipped: number;
  /** Destination hosts whose store was written in place (host -> store folder). */
  direct_stores: Record<string, string>;
  seconds: number;
  /** Wall time of each stage, in seconds: where a slow run spent its time. */
  stage_seconds: { read: number; resolve: number; inspect: number; transfer: number };
  failures: { image: string; reason: string }[];
}

/**
 * destinationsFor picks, per target registry, HTTP or the local store that registry serves (when
 * allowed and found); stores are looked for once, before anything is asked of a destination.
 */
export async function destinationsFor(
  session: RegistrySession,
  hosts: string[],
  allowDirect: boolean,
): Promise<{ dest: Destinations; direct: Record<string, string>; defaultParallel: number }> {
  const http = registryDestinations(session);
  const stores = allowDirect ? await localStores(session, hosts) : new Map();
  const direct = Object.fromEntries([...stores].map(([host, s]) => [host, s.root]));
  // Writing a local store in place is bound by hashing and the disk, not by a registry: more
  // transfers at once keep both busy (measured: 8 beat 4 by 6%; against distribution 8 = 4).
  const allDirect = hosts.length > 0 && hosts.every((h) => stores.has(h));
  return {
    dest: (host) => stores.get(host)?.destination ?? http(host),
    direct,
    defaultParallel: allDirect ? registryOptions.DIRECT_STORE_PARALLEL : registryOptions.DEFAULT_PARALLEL,
  };
}

/** uploadImages runs the whole upload and returns the summary (failures are in it, not thrown). */
export async function uploadImages(opts: UploadOptions & { dryRun?: false }): Promise<UploadSummary>;
/** With dryRun: the plan, nothing written. */
export async function uploadImages(opts: UploadOptions & { dryRun: true }): Promise<UploadDryRun>;
export async function uploadImages(opts: UploadOptions): Promise<UploadSummary | UploadDryRun> {
  const t0 = performance.now();
  const tasks = await readImagesFiles(opts.configFiles);
  if (opts.dryRun) return planTasks(tasks, opts);
  return uploadTasks(tasks, opts, t0);
}

/** planTasks is the dry run: the read-only stages and the plan. */
export async function planTasks(
  tasks: UploadTask[],
  opts: Omit<UploadOptions, 'configFiles'>,
): Promise<UploadDryRun> {
  const session = sessionFor(tasks, opts);
  try {
    const { dest, direct, defaultParallel } = await destinationsFor(
      session,
      tasks.map((t) => t.target.registry),
      opts.directStore ?? true,
    );
    const lookups = limiter(Math.max(Math.max(1, opts.parallel ?? defaultParallel) * 2, 8));
    const tags = headTargetTags(session, tasks, lookups, dest);
    const { resolved, failed } = await resolveSources(session, tasks, opts.platforms ?? [], lookups);
    const state = await inspectDestinations(session, resolved, lookups, await tags, dest);
    return {
      plan: planUpload(resolved, state),
      unresolved: failed.map((f) => ({
        image: `${formatReference(f.task.source)} -> ${formatReference(f.task.target)}`,
        reason: reason(f.error),
      })),
      direct_stores: direct,
    };
  } finally {
    await session.close();
  }
}

function sessionFor(tasks: UploadTask[], opts: SessionOptions): RegistrySession {
  return new RegistrySession({
    ...opts,
    // The undercloud registry is plain HTTP (Pike/Queens docker-distribution, Stein+ httpd).
    insecure: [...(opts.insecure ?? []), ...undercloudRegistries(tasks)],
  });
}

/**
 * copyResolved runs the upload's last stages (inspect, plan, execute) for images already
 * resolved, e.g. the image builder's, read from its OCI layout. `known` are blobs an earlier
 * call put in place, so this plan mounts them instead of sending them again.
 */
export async function copyResolved(
  session: RegistrySession,
  images: ResolvedImage[],
  opts: { dest: Destinations; parallel: number; lookups: Limiter; known?: readonly BlobLocation[] },
): Promise<{ plan: UploadPlan; result: ExecuteResult }> {
  const state = await inspectDestinations(session, images, opts.lookups, undefined, opts.dest);
  const plan = planUpload(images, { tags: state.tags, blobs: [...state.blobs, ...(opts.known ?? [])] });
  const result = await executePlan(plan, {
    session,
    manifests: manifestBodies(images),
    limit: limiter(opts.parallel),
    meta: limiter(16),
    progress: silentProgress,
    dest: opts.dest,
  });
  return { plan, result };
}

/** uploadTasks is uploadImages for tasks already read (the bench and tests build them directly). */
export async function uploadTasks(
  tasks: UploadTask[],
  opts: Omit<UploadOptions, 'configFiles'>,
  t0 = performance.now(),
): Promise<UploadSummary> {
  const progress = opts.progress ?? silentProgress;
  const session = sessionFor(tasks, opts);
  try {
    const t1 = performance.now();
    const { dest, direct, defaultParallel } = await destinationsFor(
      session,
      tasks.map((t) => t.target.registry),
      opts.directStore ?? true,
    );
    const parallel = Math.max(1, opts.parallel ?? defaultParallel);
    // Manifest and HEAD requests are small: let more run at once than blob transfers.
    const lookups = limiter(Math.max(parallel * 2, 8));
    const tags = headTargetTags(session, tasks, lookups, dest);
    const { resolved, failed } = await resolveSources(session, tasks, opts.platforms ?? [], lookups);
    const t2 = performance.now();
    const state = await inspectDestinations(session, resolved, lookups, await tags, dest);
    const plan = planUpload(resolved, state);
    const t3 = performance.now();
    progress.start(plan.bytesToCopy);
    const result = await executePlan(plan, {
      session,
      manifests: manifestBodies(resolved),
      limit: limiter(parallel),
      meta: limiter(Math.max(parallel * 4, 16)),
      progress,
      push: opts.push,
      dest,
    });
    progress.stop();
    const t4 = performance.now();
    const secs = (a: number, b: number) => Number(((b - a) / 1000).toFixed(3));
    const unresolved: ImageOutcome[] = failed.map((f) => ({
      source: formatReference(f.task.source),
      target: formatReference(f.task.target),
      status: 'failed',
      digest: '',
      error: reason(f.error),
    }));
    const images = [...result.images, ...unresolved];
    const failures = images.filter((i) => i.status === 'failed');
    return {
      images,
      images_total: images.length,
      images_copied: images.filter((i) => i.status === 'copied').length,
      images_present: images.filter((i) => i.status === 'present').length,
      images_failed: failures.length,
      bytes_transferred: result.bytesCopied,
      blobs_transferred: result.blobsCopied,
      blobs_mounted: result.blobsMounted,
      blobs_skipped: plan.existing.length,
      direct_stores: direct,
      seconds: secs(t0, t4),
      stage_seconds: {
        read: secs(t0, t1),
        resolve: secs(t1, t2),
        inspect: secs(t2, t3),
        transfer: secs(t3, t4),
      },
      failures: failures.map((f) => ({ image: `${f.source} -> ${f.target}`, reason: f.error ?? 'unknown' })),
    };
  } finally {
    progress.stop();
    await session.close();
  }
}
