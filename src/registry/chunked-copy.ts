/**
 * @module registry/chunked-copy
 * copyBlobChunked moves a large blob between registries in PATCH chunks and survives failures
 * without starting over: after a failed chunk it asks the upload session how many bytes it holds
 * and continues from there, fetching the source from that offset with Range. The digest is
 * computed across the chunks in order (a hash state is kept at each chunk's start, so a resumed
 * chunk re-hashes only the bytes the registry already took), and checked before the session is
 * committed, so a corrupt blob is never stored. Distribution 2.8 cannot say where a session
 * stands once a PATCH landed whose reply was lost (its locations carry the offset they were
 * issued at): that case starts a new session, a bounded number of times.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { digestAlgorithm } from '../oci/digest.js';
import type { RegistryClient } from './client.js';
import { isRetryable, retryAfterOf } from './errors.js';
import { CHUNK_BYTES, type RetryOptions } from './options.js';
import { backoffMs, sleep, withRetry } from './retry.js';

export interface ChunkedCopyOptions {
  chunkSize?: number;
  retry: RetryOptions;
  /** Called with the bytes of each chunk the destination took (not with bytes re-read to re-hash). */
  onBytes?: (n: number) => void;
  onRetry?: (e: unknown, attempt: number, waitMs: number) => void;
}

/** The hash of bytes [0, offset): where a resumed copy picks up. */
interface Mark {
  offset: number;
  hash: Hash;
}

export async function copyBlobChunked(
  src: RegistryClient,
  srcRepo: string,
  dst: RegistryClient,
  dstRepo: string,
  desc: Descriptor,
  opts: ChunkedCopyOptions,
): Promise<void> {
  const what = `blob ${desc.digest} of ${src.host}/${srcRepo}`;
  const pushing = `pushing blob ${desc.digest} to ${dst.host}/${dstRepo}`;
  const fresh = (): Mark => ({ offset: 0, hash: createHash(digestAlgorithm(desc.digest)) });
  const open = async (): Promise<{ loc: URL; chunk: number }> => {
    const s = await withRetry(opts.retry, () => dst.startUpload(dstRepo), opts.onRetry);
    if (s.mounted) throw new AppError('INTERNAL', 'registry mounted a blob nobody asked to mount');
    return { loc: s.location, chunk: Math.max(opts.chunkSize ?? CHUNK_BYTES, s.minChunk) };
  };
  let { loc, chunk } = await open();
  let mark = fresh();
  // Failures since the last chunk that landed, and sessions started over: both bounded, so a
  // registry that keeps losing the session cannot keep the copy going round for ever.
  let failures = 0;
  let restarts = 0;
  while (mark.offset < desc.size) {
    const start = mark.offset;
    const length = Math.min(chunk, desc.size - start);
    const live = mark.hash.copy();
    // When the source fails (a broken download, a short range) the PATCH fails with it; the
    // source's error (always an AppError) is the one worth reporting.
    let sourceError: unknown;
    try {
      const body = pipeline(
        src.blobRange(srcRepo, desc, start, start + length - 1, what),
        new HashInto(live, length, `${what} bytes ${start}-${start + length - 1}`),
        (e) => {
          if (e) sourceError ??= e;
        },
      );
      loc = await dst.patchChunk(dstRepo, loc, body, start, length, pushing);
      mark = { offset: start + length, hash: live };
      opts.onBytes?.(length);
      failures = 0;
    } catch (caught) {
      const e = sourceError instanceof AppError ? sourceError : caught;
      failures++;
      if (failures >= opts.retry.attempts || !isRetryable(e)) {
        await dst.cancelUpload(dstRepo, loc);
        throw e;
      }
      const wait = retryAfterOf(e) ?? backoffMs(failures, opts.retry);
      opts.onRetry?.(e, failures, wait);
      await sleep(wait);
      const held = await dst.uploadOffset(dstRepo, loc).catch(() => undefined);
      if (held === undefined || held.offset < start) {
        // The session is gone, lost bytes, or cannot say (distribution refuses a location whose
        // state predates a PATCH it took but whose reply was lost): a new one, from byte 0.
        if (++restarts >= opts.retry.attempts) {
          await dst.cancelUpload(dstRepo, loc);
          throw e;
        }
        await dst.cancelUpload(dstRepo, loc);
        ({ loc, chunk } = await open());
        mark = fresh();
        continue;
      }
      loc = held.location;
      if (held.offset > start) {
        // Part of the failed chunk did land: hash those bytes again from the source, send the rest.
        const h = mark.hash.copy();
        await hashRange(src, srcRepo, desc, start, held.offset, h, what);
        mark = { offset: held.offset, hash: h };
      }
    }
  }
  const got = `${digestAlgorithm(desc.digest)}:${mark.hash.digest('hex')}`;
  if (got !== desc.digest) {
    await dst.cancelUpload(dstRepo, loc);
    throw new AppError('DIGEST_MISMATCH', `${what}: content hashes to ${got}, not to its digest`);
  }
  await withRetry(opts.retry, () => dst.commitUpload(dstRepo, loc, desc.digest, pushing), opts.onRetry);
}

/** hashRange feeds bytes [start, end) of the source blob into `hash`. */
async function hashRange(
  src: RegistryClient,
  repo: string,
  desc: Descriptor,
  start: number,
  end: number,
  hash: Hash,
  what: string,
): Promise<void> {
  let n = 0;
  for await (const b of src.blobRange(repo, desc, start, end - 1, what)) {
    hash.update(b as Buffer);
    n += (b as Buffer).length;
  }
  if (n !== end - start) {
    throw new AppError('SIZE_MISMATCH', `${what}: bytes ${start}-${end - 1} ended after ${n} bytes`);
  }
}

/** HashInto passes a chunk through, hashing it, and fails if it is not exactly `length` bytes. */
class HashInto extends Transform {
  private seen = 0;

  constructor(
    private readonly hash: Hash,
    private readonly length: number,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(b: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += b.length;
    this.hash.update(b);
    done(null, b);
  }

  override _flush(done: TransformCallback): void {
    if (this.seen === this.length) done();
    else done(new AppError('SIZE_MISMATCH', `${this.what}: ${this.seen} bytes arrived, not ${this.length}`));
  }
}
