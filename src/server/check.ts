/**
 * @module server/check
 * The store's consistency check (`overcloud registry check`, and the fuzz tests after every run):
 * what the server's rules promise about the store, verified from the files alone.
 *
 * - every tag names a manifest revision of its repository;
 * - every revision's content is in blobs/, parses as a manifest, and the blobs and child manifests
 *   it references exist (content for blobs, revisions for children);
 * - every repository blob link has content; every referrer entry parses and names a revision;
 * - nothing in the store is a symlink; upload sessions have their two files;
 * - with verifyContent, every blob's bytes hash to its name.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Digest, isDigest } from '../oci/digest.js';
import { checkManifest } from './manifest-check.js';
import { isUploadId } from './names.js';
import { FsStore, readdirOrEmpty } from './storage/fs.js';

export interface StoreCheckReport {
  repositories: number;
  manifests: number;
  tags: number;
  blobs: number;
  /** One line per broken promise; empty when the store is consistent. */
  problems: string[];
}

/** checkStore reads the store at `root` and lists what is inconsistent. */
export async function checkStore(
  root: string,
  opts: { verifyContent?: boolean } = {},
): Promise<StoreCheckReport> {
  const store = new FsStore(root);
  const report: StoreCheckReport = { repositories: 0, manifests: 0, tags: 0, blobs: 0, problems: [] };
  await findSymlinks(root, report);
  const blobs = await checkBlobs(store, report, opts.verifyContent ?? false);
  for (const name of await store.listRepositories()) {
    report.repositories++;
    await checkRepository(store, name, blobs, report);
  }
  await checkUploads(store, report);
  return report;
}

/** findSymlinks walks the whole store: the server never creates a link, so any link is a problem. */
async function findSymlinks(root: string, report: StoreCheckReport): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isSymbolicLink())
      report.problems.push(`symlink in the store: ${relative(root, join(e.parentPath, e.name))}`);
  }
}

/** checkBlobs lists the stored blobs (and, asked to, checks each one's content against its digest). */
async function checkBlobs(store: FsStore, report: StoreCheckReport, verify: boolean): Promise<Set<string>> {
  const out = new Set<string>();
  for (const alg of await readdirOrEmpty(store.blobsDir)) {
    for (const prefix of await readdirOrEmpty(join(store.blobsDir, alg))) {
      for (const hex of await readdirOrEmpty(join(store.blobsDir, alg, prefix))) {
        if (hex.startsWith('.')) continue;
        const d = `${alg}:${hex}`;
        if (!isDigest(d) || !hex.startsWith(prefix)) {
          report.problems.push(`stray file in blobs/: ${alg}/${prefix}/${hex}`);
          continue;
        }
        report.blobs++;
        out.add(d);
        if (verify && !(await contentMatches(store.blobPath(d), d)))
          report.problems.push(`blob ${d}: content does not match its digest`);
      }
    }
  }
  return out;
}

async function contentMatches(path: string, d: Digest): Promise<boolean> {
  const [alg, hex] = d.split(':') as [string, string];
  const hash = createHash(alg);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex') === hex;
}

/** checkRepository checks one repository's tags, revisions, links and referrer entries. */
async function checkRepository(store: FsStore, name: string, blobs: Set<string>, report: StoreCheckReport) {
  const dir = store.repoDir(name);
  const revisions = new Set<string>();
  const revDir = join(dir, '_manifests', 'revisions');
  for (const alg of await readdirOrEmpty(revDir)) {
    for (const hex of await readdirOrEmpty(join(revDir, alg))) {
      if (hex.startsWith('.')) continue;
      const d = `${alg}:${hex}`;
      if (isDigest(d)) revisions.add(d);
      else report.problems.push(`${name}: stray revision entry ${alg}/${hex}`);
    }
  }
  for (const d of revisions) {
    report.manifests++;
    const m = await store.getManifest(name, d as Digest);
    if (m === undefined || !blobs.has(d)) {
      report.problems.push(`${name}: manifest ${d} has a revision but no content`);
      continue;
    }
    let refs: { blobs: string[]; manifests: string[] };
    try {
      const c = checkManifest(m.body, m.mediaType);
      refs = { blobs: c.blobs.map((b) => b.digest), manifests: c.manifests.map((b) => b.digest) };
    } catch (e) {
      report.problems.push(
        `${name}: manifest ${d} does not pass the manifest checks: ${(e as Error).message}`,
      );
      continue;
    }
    for (const b of refs.blobs)
      if (!blobs.has(b))
        report.problems.push(`${name}: manifest ${d} references blob ${b}, which is not stored`);
    for (const c of refs.manifests)
      if (!revisions.has(c))
        report.problems.push(`${name}: index ${d} references manifest ${c}, not in the repository`);
  }
  for (const tag of (await store.listTags(name)) ?? []) {
    report.tags++;
    const d = await store.resolveTag(name, tag);
    if (d === undefined || !revisions.has(d))
      report.problems.push(
        `${name}:${tag} points at ${d ?? 'no valid digest'}, which is not a manifest of the repository`,
      );
  }
  const linkDir = join(dir, '_blobs');
  for (const alg of await readdirOrEmpty(linkDir)) {
    for (const hex of await readdirOrEmpty(join(linkDir, alg))) {
      if (!blobs.has(`${alg}:${hex}`))
        report.problems.push(`${name}: blob link ${alg}:${hex} has no content`);
    }
  }
  await checkReferrers(dir, name, revisions, report);
}

async function checkReferrers(dir: string, name: string, revisions: Set<string>, report: StoreCheckReport) {
  const refDir = join(dir, '_referrers');
  for (const alg of await readdirOrEmpty(refDir)) {
    for (const hex of await readdirOrEmpty(join(refDir, alg))) {
      for (const f of await readdirOrEmpty(join(refDir, alg, hex))) {
        if (f.startsWith('.')) continue;
        try {
          const d = (JSON.parse(await readFile(join(refDir, alg, hex, f), 'utf8')) as { digest?: string })
            .digest;
          if (typeof d !== 'string' || !revisions.has(d))
            report.problems.push(
              `${name}: referrer entry ${f} of ${alg}:${hex} names no manifest of the repository`,
            );
        } catch {
          report.problems.push(`${name}: referrer entry ${f} of ${alg}:${hex} does not parse`);
        }
      }
    }
  }
}

/** checkUploads: each session folder holds its data and info files. */
async function checkUploads(store: FsStore, report: StoreCheckReport): Promise<void> {
  for (const id of await readdirOrEmpty(store.uploadsDir)) {
    if (!isUploadId(id)) continue;
    for (const f of ['data', 'info.json']) {
      const st = await lstat(join(store.uploadsDir, id, f)).catch(() => undefined);
      if (st === undefined || !st.isFile()) report.problems.push(`upload ${id}: ${f} is missing`);
    }
  }
}
