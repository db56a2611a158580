/**
 * @module server/local-store
 * A registry's store as a library for other processes on this machine: what the upload writes
 * when it fills a local registry in place, and what the quickstart asks of a store. It keeps the
 * server's rules: a blob becomes visible by one rename of a complete, verified file, a repository
 * sees a blob only through its link, and a manifest goes through the server's own acceptManifest
 * (checked, every referenced blob linked first), so a running server serves the result at once.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { acceptManifest } from './accept-manifest.js';
import { checkName, parseManifestRef } from './names.js';
import { FsStore } from './storage/fs.js';
import type { StoreModes } from './storage/safe-fs.js';

export interface LocalStore {
  /** The store's folder. */
  readonly root: string;
  /** What a tag (or digest) names in a repository now, or undefined. */
  headManifest(repo: string, reference: string): Promise<Descriptor | undefined>;
  /** True when the repository links a blob of exactly this size (and its gc grace starts again). */
  blobExists(repo: string, desc: Descriptor): Promise<boolean>;
  /** Stores a blob from a stream that checks its own digest and size, then links it into repo. */
  writeBlob(repo: string, desc: Descriptor, body: Readable): Promise<void>;
  /** Links a blob `from` holds into `repo`; false when `from` does not hold it. */
  mountBlob(repo: string, digest: Digest, from: string): Promise<boolean>;
  /** Stores a manifest under a tag or digest, as a PUT would; resolves with its digest. */
  putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest>;
}

/**
 * openLocalStore opens the store at `root` (a folder `registry serve --root` uses); `private` writes
 * files 0600 and folders 0700, as a server with auth on does.
 */
export function openLocalStore(root: string, modes: Partial<StoreModes> = {}): LocalStore {
  const store = new FsStore(root, modes);
  return {
    root,
    async headManifest(repo, reference) {
      const name = checkName(repo);
      const ref = parseManifestRef(reference);
      const digest = ref.digest ?? (await store.resolveTag(name, ref.tag));
      const m = digest === undefined ? undefined : await store.getManifest(name, digest);
      return m && { mediaType: m.mediaType, digest: m.digest, size: m.body.length };
    },
    async blobExists(repo, desc) {
      const size = await store.linkedBlobSize(checkName(repo), desc.digest);
      if (size !== desc.size) return false;
      // As a HEAD does on the server: gc's grace period starts again for a blob about to be used.
      await store.touchBlob(desc.digest);
      return true;
    },
    async writeBlob(repo, desc, body) {
      const name = checkName(repo);
      const tmp = join(store.uploadsDir, `direct-${randomUUID()}`);
      try {
        // The stream fails before its last chunk when the digest or size is wrong, so a bad
        // blob never completes this file; the size is checked again before the rename.
        await pipeline(
          body,
          createWriteStream(tmp, { flags: 'wx', mode: store.fs.fileMode, highWaterMark: 1 << 20 }),
        );
        const { size } = await stat(tmp);
        if (size !== desc.size) {
          throw new AppError(
            'SIZE_MISMATCH',
            `blob ${desc.digest}: got ${size} bytes, expected ${desc.size}`,
          );
        }
        await store.commitBlob(tmp, desc.digest);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      await store.linkBlob(name, desc.digest);
    },
    async mountBlob(repo, digest, from) {
      if ((await store.linkedBlobSize(checkName(from), digest)) === undefined) return false;
      await store.touchBlob(digest);
      await store.linkBlob(checkName(repo), digest);
      return true;
    },
    async putManifest(repo, reference, bytes, mediaType) {
      const stored = await acceptManifest(
        store,
        checkName(repo),
        parseManifestRef(reference),
        bytes,
        mediaType,
      );
      return stored.digest;
    },
  };
}
