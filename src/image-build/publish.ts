/**
 * @module image-build/publish
 * Names and registries: tag each image under its repositories (only the names it lacks, so a
 * no-change run spends no time here), and push to a registry with our own client.
 *
 * A push first asks the registry for every target name (one manifest GET each): a target whose
 * manifest's config is the local image (podman's image ID is the digest of its OCI config) is
 * current and costs nothing more. Only images with a stale target are exported, parents first,
 * into one temporary OCI layout (`podman save` skips blobs the layout has, so a shared layer is
 * written once), and the upload stages copy each image from there while the next one exports:
 * each blob crosses the wire at most once (then cross-repository mounts), blobs the registry has
 * are skipped after a HEAD, every byte is checked against its digest, and a manifest goes up only
 * after all its blobs. A failed image is named with its reason; the others are still pushed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, errorMessage } from '../errors.js';
import { formatReference, type Reference } from '../oci/reference.js';
import { blobsOf, RegistrySession } from '../registry/index.js';
import {
  type BlobLocation,
  copyResolved,
  type Destinations,
  destinationsFor,
  OciLayoutSource,
  type ResolvedImage,
} from '../upload/index.js';
import { type Limiter, limiter } from '../util/concurrency.js';
import type { ImageResult } from './image-result.js';
import { withoutRegistry } from './keys.js';
import { exportToLayout, type StoredImage, tagImage } from './podman.js';

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

/** PushTarget is one name an image goes under in the registry. */
export interface PushTarget {
  image: string;
  /** podman's image ID: the sha256 of the image's config */
  id: string;
  /** a local name of the image (what the export is asked for) */
  local: Reference;
  dest: Reference;
}

/** pushTargets lists every registry name of every built image, parents first (pure). */
export function pushTargets(images: readonly ImageResult[], tag: string, registry: string): PushTarget[] {
  const out: PushTarget[] = [];
  for (const img of images) {
    if (img.id === undefined) continue;
    const tags = [tag, ...(img.versionTag === undefined ? [] : [img.versionTag])];
    for (const repo of img.names) {
      for (const t of tags) {
        out.push({
          image: img.name,
          id: img.id,
          local: localReference(img.names[0] ?? repo, tag),
          dest: { registry, repository: withoutRegistry(repo), tag: t },
        });
      }
    }
  }
  return out;
}

/** localReference splits a local repository name (`localhost/ns/name`) into a reference. */
function localReference(repo: string, tag: string): Reference {
  const [registry = 'localhost', ...rest] = repo.split('/');
  return { registry, repository: rest.join('/'), tag };
}

export interface PushSummary {
  /** registry names written by this push */
  pushed: number;
  /** names that already held the image */
  current: number;
  bytes: number;
  blobsCopied: number;
  blobsMounted: number;
  blobsSkipped: number;
  seconds: number;
}

const destName = (t: PushTarget): string => formatReference(t.dest);

/** pushAll pushes every built image under all its names; failures are collected, then thrown. */
export async function pushAll(
  images: readonly ImageResult[],
  opts: { tag: string; push: string },
  cache: string,
  say: (l: string) => void,
): Promise<PushSummary> {
  const t0 = performance.now();
  const targets = pushTargets(images, opts.tag, opts.push);
  const session = new RegistrySession();
  const failures: string[] = [];
  try {
    const client = session.client(opts.push);
    await client.ping().catch((e: unknown) => {
      throw new AppError('UPLOAD_FAILED', `cannot push to ${opts.push}: ${errorMessage(e)}`, { cause: e });
    });
    const lookups = limiter(8);
    const current = await Promise.all(
      targets.map((t) =>
        lookups(async () => {
          const m = await client.getManifest(t.dest.repository, t.dest.tag ?? '').catch(() => undefined);
          return m?.kind === 'image' && m.manifest.config.digest === `sha256:${t.id}`;
        }),
      ),
    );
    const stale = targets.filter((_, i) => !current[i]);
    const summary: PushSummary = {
      pushed: 0,
      current: targets.length - stale.length,
      bytes: 0,
      blobsCopied: 0,
      blobsMounted: 0,
      blobsSkipped: 0,
      seconds: 0,
    };
    if (stale.length > 0) {
      const { dest, direct, defaultParallel: parallel } = await destinationsFor(session, [opts.push], true);
      for (const [host, root] of Object.entries(direct))
        say(`push to ${host}: writing its store ${root} in place`);
      const dir = await mkdtemp(join(cache, 'export-'));
      try {
        await exportAndUpload(stale, {
          session,
          dest,
          parallel,
          dir,
          cache,
          lookups,
          summary,
          failures,
          say,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    summary.seconds = (performance.now() - t0) / 1000;
    say(
      `push to ${opts.push}: ${summary.pushed} name(s) pushed, ${summary.current} already current; ` +
        `${(summary.bytes / 1e6).toFixed(0)} MB in ${summary.blobsCopied} blob(s), ` +
        `${summary.blobsMounted} mounted, ${summary.blobsSkipped} already there (${summary.seconds.toFixed(1)} s)`,
    );
    if (failures.length > 0) {
      throw new AppError('UPLOAD_FAILED', `${failures.length} push(es) failed: ${failures.join('; ')}`);
    }
    return summary;
  } finally {
    await session.close();
  }
}

interface PushRun {
  session: RegistrySession;
  /** HTTP, or the registry's store written in place when it runs on this machine. */
  dest: Destinations;
  /** Blob transfers at once (more when the store is written in place). */
  parallel: number;
  dir: string;
  cache: string;
  lookups: Limiter;
  summary: PushSummary;
  failures: string[];
  say: (l: string) => void;
}

/**
 * exportAndUpload exports the images with a stale target one after another, parents first, into
 * the layout, and uploads each image's targets as soon as its export is done, while the next
 * export runs: the two take about as long, so overlapping them nearly halves a cold push. Uploads
 * go one image at a time, and every blob an earlier image put in the registry is known to the
 * next plan, which mounts it instead of sending it again. An image that cannot be exported or
 * uploaded fails its own targets only.
 */
async function exportAndUpload(stale: readonly PushTarget[], run: PushRun): Promise<void> {
  const byImage = new Map<string, PushTarget[]>();
  for (const t of stale) byImage.set(t.image, [...(byImage.get(t.image) ?? []), t]);
  const known: BlobLocation[] = [];
  let uploading = Promise.resolve();
  for (const targets of byImage.values()) {
    const resolved = await exportImage(targets, run);
    await uploading;
    uploading = uploadImage(resolved, known, run);
  }
  await uploading;
}

/** exportImage adds one image to the layout and resolves its targets there (failures noted). */
async function exportImage(targets: readonly PushTarget[], run: PushRun): Promise<ResolvedImage[]> {
  const first = targets[0];
  if (first === undefined) return [];
  const local = formatReference(first.local);
  try {
    await exportToLayout(local, run.dir, join(run.cache, 'logs', `push-${first.image}.log`));
    const layout = await OciLayoutSource.open(run.dir);
    const m = await layout.manifest(local);
    if (m.kind !== 'image') throw new AppError('MANIFEST_UNSUPPORTED', `${local}: exported as an index`);
    // The export goes by name; another build may have moved the name since this one tagged it.
    if (m.manifest.config.digest !== `sha256:${first.id}`) {
      throw new AppError(
        'UPLOAD_FAILED',
        `${local} is no longer image ${first.id.slice(0, 12)} (exported config ${m.manifest.config.digest}); build again`,
      );
    }
    return targets.map((t) => ({
      task: { imagename: local, source: t.local, target: t.dest, origin: 'overcloud image build' },
      root: m.raw,
      images: [{ raw: m.raw, blobs: blobsOf(m.manifest) }],
      isIndex: false,
      layout: run.dir,
    }));
  } catch (e) {
    for (const t of targets) run.failures.push(`${destName(t)}: exporting ${local}: ${errorMessage(e)}`);
    return [];
  }
}

/** uploadImage runs the upload stages for one image's targets and records what happened. */
async function uploadImage(resolved: ResolvedImage[], known: BlobLocation[], run: PushRun): Promise<void> {
  if (resolved.length === 0) return;
  const { session, summary } = run;
  try {
    const { plan, result } = await copyResolved(session, resolved, {
      dest: run.dest,
      parallel: run.parallel,
      lookups: run.lookups,
      known,
    });
    result.images.forEach((o, i) => {
      if (o.status === 'failed') {
        run.failures.push(`${o.target}: ${o.error ?? 'failed'}`);
        return;
      }
      const t = resolved[i]?.task.target;
      for (const b of resolved[i]?.images[0]?.blobs ?? []) {
        if (t) known.push({ host: t.registry, repository: t.repository, digest: b.digest });
      }
      if (o.status === 'present') summary.current++;
      else {
        summary.pushed++;
        run.say(`pushed ${o.target}`);
      }
    });
    summary.bytes += result.bytesCopied;
    summary.blobsCopied += result.blobsCopied;
    summary.blobsMounted += result.blobsMounted;
    summary.blobsSkipped += plan.existing.length;
  } catch (e) {
    for (const r of resolved) run.failures.push(`${formatReference(r.task.target)}: ${errorMessage(e)}`);
  }
}
