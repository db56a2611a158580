/**
 * @module server/storage/fs
 * The registry's filesystem store. Content is addressed by digest and stored once for all
 * repositories; a repository sees a blob only through a link file, as in distribution:
 *
 *   blobs/<alg>/<hex[0:2]>/<hex>                        content (layers, configs and manifests)
 *   repositories/<name>/_blobs/<alg>/<hex>              empty: "this repository may serve this blob"
 *   repositories/<name>/_manifests/revisions/<alg>/<hex> the manifest's media type
 *   repositories/<name>/_manifests/tags/<tag>           the tagged manifest's digest
 *   repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex>.json   a referrer's descriptor, by subject
 *   uploads/<uuid>/{data,info.json}                     upload sessions (see uploads.ts)
 *
 * Repository path components start with [a-z0-9], so the `_` directories never clash with a nested
 * repository. Every path is built from values validated in names.ts; nothing else reaches here.
 * Writers rename complete files into place, so readers never see half a blob, tag or link.
 *
 * Nothing inside the store is followed through a symlink (./safe-fs.ts): files are opened with
 * O_NOFOLLOW, and the folders on the way are checked to resolve to where they should. With auth
 * on, the store is its owner's only (folders 0700, files 0600).
 */
import { readdir, rename, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '../../oci/descriptor.js';
import { type Digest, digestAlgorithm, digestHex, isDigest } from '../../oci/digest.js';
import { BodyCache } from './body-cache.js';
import { SafeFs, type StoreModes } from './safe-fs.js';

/** A stored manifest: the exact bytes a client pushed and the media type it was pushed with. */
export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  body: Buffer;
}

/** A missing file, or one that is not what it should be (a symlink, a folder): both read as absent. */
const isMissing = (e: unknown): boolean =>
  ['ENOENT', 'ELOOP', 'ENOTDIR', 'EISDIR', 'ESYMLINK'].includes((e as NodeJS.ErrnoException).code ?? '');
const digestDir = (d: Digest): string => join(digestAlgorithm(d), digestHex(d));

/** FsStore is the content-addressed store; see the module comment for the layout. */
export class FsStore {
  readonly blobsDir: string;
  readonly reposDir: string;
  readonly uploadsDir: string;
  /** Manifests are immutable by digest, so the bodies of recently served ones stay in memory. */
  private readonly manifestCache = new BodyCache(64 * 1024 * 1024);

  /** File operations that refuse symlinks, with the store's modes and fsync setting. */
  readonly fs: SafeFs;

  constructor(
    readonly root: string,
    opts: Partial<StoreModes> = {},
  ) {
    this.blobsDir = join(root, 'blobs');
    this.reposDir = join(root, 'repositories');
    this.uploadsDir = join(root, 'uploads');
    this.fs = new SafeFs(root, opts);
  }

  /**
   * open creates the top-level folders and sets their modes (0700 with `private`, else 0755), so
   * an existing store follows the auth setting too.
   */
  static async open(root: string, opts: Partial<StoreModes> = {}): Promise<FsStore> {
    const store = new FsStore(root, opts);
    await store.fs.prepareRoot([store.blobsDir, store.reposDir, store.uploadsDir]);
    return store;
  }

  blobPath(d: Digest): string {
    const hex = digestHex(d);
    return join(this.blobsDir, digestAlgorithm(d), hex.slice(0, 2), hex);
  }

  repoDir(name: string): string {
    return join(this.reposDir, name);
  }

  private blobLink(name: string, d: Digest): string {
    return join(this.repoDir(name), '_blobs', digestDir(d));
  }

  private revisionLink(name: string, d: Digest): string {
    return join(this.repoDir(name), '_manifests', 'revisions', digestDir(d));
  }

  private tagFile(name: string, tag: string): string {
    return join(this.repoDir(name), '_manifests', 'tags', tag);
  }

  private referrersDir(name: string, subject: Digest): string {
    return join(this.repoDir(name), '_referrers', digestDir(subject));
  }

  /** blobSize stats a blob in the shared store, whatever repository links it. */
  async blobSize(d: Digest): Promise<number | undefined> {
    try {
      return (await this.fs.fileStat(this.blobPath(d))).size;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** linkedBlobSize is the size of a blob this repository may serve, or undefined. */
  async linkedBlobSize(name: string, d: Digest): Promise<number | undefined> {
    try {
      await this.fs.fileStat(this.blobLink(name, d));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    return this.blobSize(d);
  }

  /** linkBlob lets a repository serve a stored blob (after an upload or a mount). */
  async linkBlob(name: string, d: Digest): Promise<void> {
    await this.fs.writeEmpty(this.blobLink(name, d));
  }

  /** unlinkBlob removes a repository's link; the content stays for other repositories (gc reclaims it). */
  async unlinkBlob(name: string, d: Digest): Promise<boolean> {
    try {
      await this.fs.removeFile(this.blobLink(name, d));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /**
   * touchBlob renews a blob's mtime. gc spares unreferenced blobs younger than its grace period, so a
   * blob a pusher has just checked for (HEAD) or mounted survives until its manifest arrives.
   */
  async touchBlob(d: Digest): Promise<void> {
    await this.fs.touch(this.blobPath(d)).catch(() => {});
  }

  /**
   * commitBlob moves a verified file into the store; when the content is already there it just goes.
   * The blob's mtime becomes the commit time (not the last write, which may be an old PATCH), so gc's
   * grace period counts from the moment the blob became visible; with fsync the folder entry is
   * made durable too.
   */
  async commitBlob(verifiedFile: string, d: Digest): Promise<void> {
    const dest = this.blobPath(d);
    await this.fs.mkdirs(join(dest, '..'));
    const now = new Date();
    await utimes(verifiedFile, now, now);
    // rename is atomic and replaces identical content when two uploads of one blob race.
    await rename(verifiedFile, dest);
    await this.fs.syncDir(join(dest, '..'));
  }

  /**
   * putManifest stores a manifest's bytes, its revision link, and optionally a tag and a referrer
   * entry. Everything is rendered before the first write, and the revision (what makes the manifest
   * exist) is written after its referrer entry and before its tag: a failure part way leaves
   * nothing that is served, and what it did write is taken back.
   */
  async putManifest(
    name: string,
    m: StoredManifest,
    opts: { tag?: string; subject?: Digest; referrer?: Descriptor },
  ): Promise<void> {
    const referrer =
      opts.subject !== undefined && opts.referrer !== undefined
        ? {
            path: join(this.referrersDir(name, opts.subject), referrerFile(m.digest)),
            text: JSON.stringify(opts.referrer),
          }
        : undefined;
    const rev = this.revisionLink(name, m.digest);
    const hadRevision = (await this.manifestMediaType(name, m.digest)) !== undefined;
    if ((await this.blobSize(m.digest)) === undefined) {
      await this.fs.writeAtomic(this.blobPath(m.digest), m.body);
    } else {
      await this.touchBlob(m.digest);
    }
    try {
      if (referrer !== undefined) await this.fs.writeAtomic(referrer.path, referrer.text);
      await this.fs.writeAtomic(rev, m.mediaType);
      if (opts.tag !== undefined) await this.fs.writeAtomic(this.tagFile(name, opts.tag), m.digest);
    } catch (e) {
      if (!hadRevision) {
        await this.fs.removeFile(rev).catch(() => {});
        if (referrer !== undefined) await this.fs.removeFile(referrer.path).catch(() => {});
      }
      throw e;
    }
  }

  /** resolveTag returns the digest a tag points at. */
  async resolveTag(name: string, tag: string): Promise<Digest | undefined> {
    try {
      const text = (await this.fs.readFile(this.tagFile(name, tag))).toString('utf8');
      return isDigest(text) ? text : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** manifestMediaType reads the revision link: present only if this repository holds the manifest. */
  async manifestMediaType(name: string, d: Digest): Promise<string | undefined> {
    try {
      return (await this.fs.readFile(this.revisionLink(name, d))).toString('utf8');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** getManifest reads a manifest of this repository by digest. */
  async getManifest(name: string, d: Digest): Promise<StoredManifest | undefined> {
    const mediaType = await this.manifestMediaType(name, d);
    if (mediaType === undefined) return undefined;
    let body = this.manifestCache.get(d);
    if (body === undefined) {
      try {
        body = await this.fs.readFile(this.blobPath(d));
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
      this.manifestCache.set(d, body);
    }
    return { digest: d, mediaType, body };
  }

  /** deleteManifest removes a revision, every tag pointing at it, and its referrer entry. */
  async deleteManifest(name: string, d: Digest, subject: Digest | undefined): Promise<boolean> {
    try {
      await this.fs.removeFile(this.revisionLink(name, d));
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
    for (const tag of (await this.listTags(name)) ?? []) {
      if ((await this.resolveTag(name, tag)) === d)
        await this.fs.removeFile(this.tagFile(name, tag)).catch(() => {});
    }
    if (subject !== undefined) {
      await this.fs.removeFile(join(this.referrersDir(name, subject), referrerFile(d))).catch(() => {});
    }
    return true;
  }

  /** deleteTag removes one tag; the manifest stays reachable by digest. */
  async deleteTag(name: string, tag: string): Promise<boolean> {
    try {
      await this.fs.removeFile(this.tagFile(name, tag));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  /** repositoryExists tells whether anything was ever pushed to the repository. */
  async repositoryExists(name: string): Promise<boolean> {
    return (await readdirOrEmpty(this.repoDir(name))).some((e) => e.startsWith('_'));
  }

  /** listTags returns the sorted tags, or undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    if (!(await this.repositoryExists(name))) return undefined;
    return (await readdirOrEmpty(join(this.repoDir(name), '_manifests', 'tags'))).filter(isNotTemp).sort();
  }

  /** listRepositories walks the repositories folder: a folder holding `_manifests` is a repository. */
  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdirOrEmpty(join(this.reposDir, rel));
      if (entries.includes('_manifests')) out.push(rel);
      for (const e of entries)
        if (!e.startsWith('_') && !e.startsWith('.')) await walk(rel ? `${rel}/${e}` : e);
    };
    await walk('');
    return out.sort();
  }

  /**
   * listReferrers reads the referrer descriptors recorded for a subject. An entry that does not
   * parse, or whose manifest is not (or no longer) in the repository, is left out: one bad entry
   * never breaks the listing.
   */
  async listReferrers(name: string, subject: Digest): Promise<Descriptor[]> {
    const dir = this.referrersDir(name, subject);
    const out: Descriptor[] = [];
    for (const f of (await readdirOrEmpty(dir)).filter(isNotTemp).sort()) {
      let d: Descriptor;
      try {
        d = JSON.parse((await this.fs.readFile(join(dir, f))).toString('utf8')) as Descriptor;
      } catch (e) {
        if (isMissing(e) || e instanceof SyntaxError) continue;
        throw e;
      }
      if (typeof d?.digest !== 'string' || !isDigest(d.digest)) continue;
      if ((await this.manifestMediaType(name, d.digest)) === undefined) continue;
      out.push(d);
    }
    return out;
  }
}

/** A referrer's file name, `<alg>-<hex>.json` (no colon, which some filesystems dislike). */
function referrerFile(d: Digest): string {
  return `${digestAlgorithm(d)}-${digestHex(d)}.json`;
}

/** writeFileAtomic leaves `.name.xxx.tmp` files behind only if killed; listings skip them. */
function isNotTemp(name: string): boolean {
  return !name.startsWith('.');
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
}
