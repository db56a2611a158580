/**
 * @module registry/blob-io
 * Stream stages for blobs: a resumable GET (Range from where a broken connection stopped), a stage
 * that holds back the last chunk until the digest has been checked (so a corrupt blob never
 * completes an upload), and a splitter that feeds one stream into consecutive PATCH bodies.
 */
import { once } from 'node:events';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { AppError, errorMessage } from '../errors.js';
import { isRetryable, networkError } from './errors.js';
import type { HttpRequest, HttpResponse } from './http.js';
import type { RetryOptions } from './options.js';
import { backoffMs, sleep } from './retry.js';

/**
 * resumableGet yields the blob's bytes, or bytes [range.start, range.end] of it. When the
 * connection breaks mid-body it asks again with `Range: bytes=<offset>-`; bytes a server sends
 * outside what was asked (one that ignores Range answers 200 from byte 0) are dropped.
 */
export async function* resumableGet(
  send: (req: HttpRequest) => Promise<HttpResponse>,
  req: HttpRequest,
  retry: RetryOptions,
  onBytes?: (n: number) => void,
  range?: { start: number; end: number },
): AsyncGenerator<Buffer> {
  let offset = range?.start ?? 0;
  const stop = range ? range.end + 1 : Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    const bounded = Number.isFinite(stop);
    const headers: Record<string, string> = { ...req.headers };
    if (offset > 0 || bounded) headers.range = `bytes=${offset}-${bounded ? stop - 1 : ''}`;
    const res = await send({ ...req, headers, ok: [200, 206] });
    let pos = res.status === 206 ? offset : 0;
    try {
      for await (const c of res.body) {
        let b = c as Buffer;
        const from = pos;
        pos += b.length;
        if (pos <= offset) continue;
        if (from < offset) b = b.subarray(offset - from);
        if (b.length > stop - offset) b = b.subarray(0, stop - offset);
        offset += b.length;
        onBytes?.(b.length);
        yield b;
        if (offset >= stop) return;
      }
      return;
    } catch (e) {
      const err = networkError(e, req.method, res.url);
      if (attempt >= retry.attempts || !isRetryable(err)) throw err;
      await sleep(backoffMs(attempt, retry));
    } finally {
      if (!res.body.destroyed) res.body.destroy();
    }
  }
}

/** HoldLast passes chunks on one step late and releases the last one only on a clean end. */
export class HoldLast extends Transform {
  private held: Buffer | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const prev = this.held;
    this.held = chunk;
    done(null, prev);
  }

  override _flush(done: TransformCallback): void {
    done(null, this.held);
  }
}

/**
 * sendInChunks splits `source` (exactly `size` bytes) into bodies of `chunkSize` and sends each
 * with `sendChunk(body, start, length)`, one after another, keeping backpressure end to end.
 */
export async function sendInChunks(
  source: Readable,
  size: number,
  chunkSize: number,
  sendChunk: (body: Readable, start: number, length: number) => Promise<void>,
): Promise<void> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let carry: Buffer | undefined;
  try {
    for (let start = 0; start < size; start += chunkSize) {
      const length = Math.min(chunkSize, size - start);
      const body = new PassThrough({ highWaterMark: 1024 * 1024 });
      let failed = false;
      const sent = sendChunk(body, start, length).catch((e: unknown) => {
        failed = true;
        throw e;
      });
      sent.catch(() => {});
      try {
        let n = 0;
        while (n < length && !failed) {
          let b = carry;
          carry = undefined;
          if (!b) {
            const r = await it.next();
            if (r.done) break;
            b = r.value;
          }
          if (b.length > length - n) {
            carry = b.subarray(length - n);
            b = b.subarray(0, length - n);
          }
          n += b.length;
          if (!body.write(b)) await Promise.race([once(body, 'drain'), sent]);
        }
      } catch (e) {
        body.destroy(e instanceof Error ? e : new AppError('UPLOAD_FAILED', errorMessage(e)));
        await sent.catch(() => {});
        throw e;
      }
      body.end();
      await sent;
    }
    // Drain the source to its end so the digest check in the pipeline runs before the commit.
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (r.value.length > 0)
        throw new AppError(
          'SIZE_MISMATCH',
          `blob source delivered more than the ${size} bytes declared: the source changed under the copy`,
          { hint: 'run the upload again; a source that keeps changing is being written to' },
        );
    }
  } finally {
    source.destroy();
  }
}
