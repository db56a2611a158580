/**
 * @module server/storage/uploads
 * Upload sessions on disk: `uploads/<uuid>/data` holds the bytes received so far and `info.json`
 * the repository. The offset is the data file's size, so a session survives a restart. The running
 * sha256 lives in memory only (a hash state cannot be saved); after a restart the data is hashed
 * again from disk at commit. Nothing becomes a blob until its digest is verified, and then only by
 * one rename into the store.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
 */
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { lstat, readdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Digest, DigestVerifier, digestAlgorithm } from '../../oci/digest.js';
import { RegistryHttpError } from '../errors.js';
import { isUploadId } from '../names.js';
import type { FsStore } from './fs.js';

export interface UploadSession {
  id: string;
  name: string;
  /** Bytes received and written so far. */
  offset: number;
}

/** What the process remembers about a live session: the hash so far, and whether a request holds it. */
interface LiveState {
  hash: Hash | undefined;
  hashedBytes: number;
  busy: boolean;
  /** Set when the whole content went through DigestVerifier for this digest (monolithic uploads). */
  verified?: Digest;
}

/** Counts and hashes bytes on their way to disk, and stops a body that grows past the limit. */
class HashingCounter extends Transform {
  bytes = 0;
  constructor(
    private readonly hash: Hash | undefined,
    private readonly limit: number,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new RegistryHttpError(413, 'SIZE_INVALID', `body exceeds the limit of ${this.limit} bytes`));
      return;
    }
    this.hash?.update(chunk);
    done(null, chunk);
  }
}

/** UploadStore creates, appends to, commits and cancels upload sessions. */
export class UploadStore {
  private readonly live = new Map<string, LiveState>();

  constructor(
    private readonly store: FsStore,
    /** The largest blob accepted, in bytes. */
    readonly maxBlobSize: number,
    /** fsync each blob before committing it (see commit). */
    private readonly fsync = false,
  ) {}

  private dir(id: string): string {
    return join(this.store.uploadsDir, id);
  }

  /** How many sessions this process holds state for (the purge frees them). */
  get liveCount(): number {
    return this.live.size;
  }

  /** create starts an empty session for a repository. */
  async create(name: string): Promise<UploadSession> {
    const id = randomUUID();
    await this.store.fs.createFile(join(this.dir(id), 'data'));
    await this.store.fs.createFile(
      join(this.dir(id), 'info.json'),
      JSON.stringify({ name, started: new Date().toISOString() }),
    );
    this.live.set(id, { hash: createHash('sha256'), hashedBytes: 0, busy: false });
    return { id, name, offset: 0 };
  }

  /**
   * purge removes sessions started more than `maxAgeMs` ago (as distribution's upload purging
   * does), with their memory; a session a request is writing to right now is left for the next run.
   * Returns how many went.
   */
  async purge(maxAgeMs: number, now = Date.now()): Promise<number> {
    let purged = 0;
    let ids: string[];
    try {
      ids = await readdir(this.store.uploadsDir);
    } catch {
      return 0;
    }
    for (const id of ids) {
      if (this.live.get(id)?.busy) continue;
      const started = await this.startedAt(id);
      if (started !== undefined && now - started < maxAgeMs) continue;
      this.live.delete(id);
      await rm(this.dir(id), { recursive: true, force: true });
      purged++;
    }
    // State of sessions whose folder is gone (removed by gc, or by hand).
    const present = new Set(ids);
    for (const id of this.live.keys()) if (!present.has(id)) this.live.delete(id);
    return purged;
  }

  /**
   * startedAt reads a session's start time; undefined (purge it) when neither its info nor its
   * folder can be read. A session whose info.json is not written yet (create is between its two
   * files) or is damaged is as old as its folder: a purge running at that moment must not take a
   * session that was just handed to a client.
   */
  private async startedAt(id: string): Promise<number | undefined> {
    const folderAge = async (): Promise<number | undefined> => {
      // lstat: a symlink planted in uploads/ has no age of its own and is purged.
      const st = await lstat(this.dir(id)).catch(() => undefined);
      return st && (st.isDirectory() || st.isFile()) ? st.mtimeMs : undefined;
    };
    // Direct-store temp files and strays: their mtime is their age.
    if (!isUploadId(id)) return folderAge();
    try {
      const info = JSON.parse((await this.store.fs.readFile(join(this.dir(id), 'info.json'))).toString()) as {
        started?: string;
      };
      const t = Date.parse(String(info.started));
      return Number.isNaN(t) ? folderAge() : t;
    } catch {
      return folderAge();
    }
  }

  /** get finds a session of this repository; an unknown id, or another repository's, is undefined. */
  async get(name: string, id: string): Promise<UploadSession | undefined> {
    if (!isUploadId(id)) return undefined;
    try {
      const info = JSON.parse((await this.store.fs.readFile(join(this.dir(id), 'info.json'))).toString()) as {
        name?: string;
      };
      if (info.name !== name) return undefined;
      const { size } = await this.store.fs.fileStat(join(this.dir(id), 'data'));
      return { id, name, offset: size };
    } catch {
      return undefined;
    }
  }

  /** lock marks a session as in use by one request; a second concurrent request is refused. */
  lock(s: UploadSession): () => void {
    let state = this.live.get(s.id);
    if (state === undefined) {
      state = { hash: s.offset === 0 ? createHash('sha256') : undefined, hashedBytes: 0, busy: false };
      this.live.set(s.id, state);
    }
    if (state.busy) {
      throw new RegistryHttpError(409, 'BLOB_UPLOAD_INVALID', 'another request is writing to this upload');
    }
    state.busy = true;
    const held = state;
    return () => {
      held.busy = false;
    };
  }

  /**
   * append writes a request body at the session's offset. On any failure (a client that hangs up
   * early, a body over the limit, a digest that does not match) the file is cut back to where the
   * chunk began, so the session stays consistent and the client may retry the chunk.
   * `whole` says the body is the entire blob with a known digest (a monolithic upload): it then
   * goes through DigestVerifier and fails before commit, instead of being hashed for later.
   */
  async append(
    s: UploadSession,
    body: NodeJS.ReadableStream,
    whole?: { digest: Digest; size: number | undefined },
  ): Promise<number> {
    const state = this.live.get(s.id);
    const verify = whole !== undefined && s.offset === 0;
    const hashing = !verify && state?.hash !== undefined && state.hashedBytes === s.offset;
    const before = hashing ? state!.hash!.copy() : undefined;
    const counter = new HashingCounter(hashing ? state!.hash : undefined, this.maxBlobSize - s.offset);
    const path = join(this.dir(s.id), 'data');
    const fh = await this.store.fs.openWrite(path);
    const sink = fh.createWriteStream({ start: s.offset, highWaterMark: 1 << 20 });
    try {
      if (verify) await pipeline(body, counter, new DigestVerifier(whole.digest, whole.size), sink);
      else await pipeline(body, counter, sink);
    } catch (e) {
      await truncate(path, s.offset).catch(() => {});
      if (state) state.hash = before;
      throw e;
    }
    s.offset += counter.bytes;
    if (state) {
      if (hashing) state.hashedBytes = s.offset;
      else state.hash = undefined;
      state.verified = verify ? whole.digest : undefined;
    }
    return s.offset;
  }

  /**
   * commit checks the received bytes against the digest the client claims, then renames them into
   * the store. When the running hash is not usable (restart, sha512) the file is hashed again from
   * disk through DigestVerifier, streaming.
   */
  async commit(s: UploadSession, digest: Digest): Promise<void> {
    const path = join(this.dir(s.id), 'data');
    const state = this.live.get(s.id);
    if (this.fsync) {
      // Flush to disk before the rename makes the blob visible, so a power loss cannot expose a hole.
      // Off by default, as in distribution: it costs about two thirds of push throughput, and a
      // killed process (as opposed to a lost machine) loses nothing the kernel already has.
      const fh = await this.store.fs.openRead(path);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (state?.verified === digest) {
      // Already checked while streaming.
    } else if (
      state?.hash !== undefined &&
      state.hashedBytes === s.offset &&
      digestAlgorithm(digest) === 'sha256'
    ) {
      const actual = `sha256:${state.hash.copy().digest('hex')}`;
      if (actual !== digest) {
        throw new RegistryHttpError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { digest, actual },
        });
      }
    } else {
      const fh = await this.store.fs.openRead(path);
      await pipeline(fh.createReadStream(), new DigestVerifier(digest, s.offset), discard());
    }
    await this.store.commitBlob(path, digest);
    await this.cancel(s);
  }

  /** cancel forgets a session and removes its files. */
  async cancel(s: UploadSession): Promise<void> {
    this.live.delete(s.id);
    await rm(this.dir(s.id), { recursive: true, force: true });
  }
}

/** discard is a sink for streams that are read only to be verified. */
function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });
}
