/**
 * @module server/gc
 * Garbage collection: delete blobs no manifest references, safely while the server runs.
 *
 * Mark: every manifest revision of every repository is live, and so are the blobs it references
 * (config, layers) and the child manifests of an index. Sweep: an unmarked blob is deleted only if
 * its mtime is older than the grace period. That is what makes it safe beside a live server: a
 * blob uploaded (or mounted, or checked with HEAD, which renew the mtime) whose manifest has not
 * been pushed yet is younger than the grace period and stays. Repository links to deleted blobs go
 * too, and upload sessions untouched for longer than `uploadMaxAgeMs` are purged.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Digest, isDigest } from '../oci/digest.js';
import { DEFAULT_GRACE_MS, DEFAULT_UPLOAD_MAX_AGE_MS } from './defaults.js';
import { checkManifest } from './manifest-check.js';
import { FsStore, readdirOrEmpty } from './storage/fs.js';

export interface GcOptions {
  dryRun?: boolean;
  /** Unreferenced blobs younger than this are kept (default 1 hour). */
  gracePeriodMs?: number;
  /** Upload sessions idle for longer than this are removed (default 24 hours). */
  uploadMaxAgeMs?: number;
  now?: Date;
}

export interface GcReport {
  manifests: number;
  blobsKept: number;
  /** Blobs deleted (or, with dryRun, that would be). */
  deleted: { digest: Digest; size: number }[];
  bytesFreed: number;
  /** Unreferenced blobs spared because they are younger than the grace period. */
  spared: number;
  uploadsPurged: number;
}

/** collectGarbage runs one mark-and-sweep over the store at `root`. */
export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcReport> {
  const store = await FsStore.open(root);
  const now = (opts.now ?? new Date()).getTime();
  const grace = opts.gracePeriodMs ?? DEFAULT_GRACE_MS;
  const report: GcReport = {
    manifests: 0,
    blobsKept: 0,
    deleted: [],
    bytesFreed: 0,
    spared: 0,
    uploadsPurged: 0,
  };
  const live = new Set<string>();
  const repos = await store.listRepositories();
  for (const name of repos) {
    const revDir = join(store.repoDir(name), '_manifests', 'revisions');
    for (const alg of await readdirOrEmpty(revDir)) {
      for (const hex of await readdirOrEmpty(join(revDir, alg))) {
        const d = `${alg}:${hex}`;
        if (!isDigest(d)) continue;
        const m = await store.getManifest(name, d);
        if (m === undefined) continue;
        report.manifests++;
        live.add(d);
        try {
          const checked = checkManifest(m.body, m.mediaType);
          for (const b of [...checked.blobs, ...checked.manifests]) live.add(b.digest);
        } catch {
          // A manifest we cannot parse was accepted by an older version: keep it, mark nothing more.
        }
      }
    }
  }
  for (const alg of await readdirOrEmpty(store.blobsDir)) {
    for (const prefix of await readdirOrEmpty(join(store.blobsDir, alg))) {
      for (const hex of await readdirOrEmpty(join(store.blobsDir, alg, prefix))) {
        const d = `${alg}:${hex}`;
        if (!isDigest(d)) continue;
        if (live.has(d)) {
          report.blobsKept++;
          continue;
        }
        const st = await stat(store.blobPath(d)).catch(() => undefined);
        if (st === undefined) continue;
        if (now - st.mtimeMs < grace) {
          report.spared++;
          continue;
        }
        report.deleted.push({ digest: d, size: st.size });
        report.bytesFreed += st.size;
        if (!opts.dryRun) await rm(store.blobPath(d), { force: true });
      }
    }
  }
  if (!opts.dryRun) await dropDanglingLinks(store, repos, new Set(report.deleted.map((b) => b.digest)));
  report.uploadsPurged = await purgeUploads(
    store,
    now - (opts.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS),
    opts,
  );
  return report;
}

/** dropDanglingLinks removes repository blob links whose content was just deleted. */
async function dropDanglingLinks(store: FsStore, repos: string[], deleted: Set<string>): Promise<void> {
  if (deleted.size === 0) return;
  for (const name of repos) {
    const dir = join(store.repoDir(name), '_blobs');
    for (const alg of await readdirOrEmpty(dir)) {
      for (const hex of await readdirOrEmpty(join(dir, alg))) {
        if (deleted.has(`${alg}:${hex}`)) await rm(join(dir, alg, hex), { force: true });
      }
    }
  }
}

/** purgeUploads removes upload sessions (and stray temp files) not written to since `before`. */
async function purgeUploads(store: FsStore, before: number, opts: GcOptions): Promise<number> {
  let purged = 0;
  for (const id of await readdir(store.uploadsDir)) {
    const dir = join(store.uploadsDir, id);
    const data = await stat(join(dir, 'data')).catch(() => stat(dir).catch(() => undefined));
    if (data === undefined || data.mtimeMs >= before) continue;
    purged++;
    if (!opts.dryRun) await rm(dir, { recursive: true, force: true });
  }
  return purged;
}
