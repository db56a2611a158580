/**
 * @module server/send-file
 * Serve a byte range of a file on an HTTP response, fast: Node has no sendfile(2), so every byte is
 * read into user space and written out again. What is left to win is overlap and allocation.
 * A readable-stream pipe reads a chunk, then waits for the socket to drain before it reads the
 * next (the response's high-water mark is far below a chunk), and allocates a fresh buffer per
 * chunk (page faults on every one). Here two pooled buffers alternate: the next read runs while the
 * socket sends the previous chunk, and a buffer goes back to the pool only once the socket has
 * taken it. Measured on bench/registry's blob download: ~1.3x the stream pipe.
 */

import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { AppError } from '../errors.js';

/** 1 MiB measured best (4 MiB and 256 KiB both slower on loopback with 8 clients). */
const CHUNK = 1024 * 1024;
/** Buffers kept for reuse across requests; beyond this they are left to the garbage collector. */
const POOL_MAX = 32;
const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(buf: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(buf);
}

/**
 * sendFileRange writes bytes [start, end] (inclusive) of `path` to `res` and ends it. Resolves when
 * the last byte was handed to the socket; rejects if the file is shorter than promised or the
 * client went away (the caller's error handling destroys the response).
 */
export async function sendFileRange(
  res: ServerResponse,
  path: string,
  start: number,
  end: number,
): Promise<void> {
  // O_NOFOLLOW: a symlink planted in the store is never served (see storage/safe-fs.ts).
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await pump(fh, res, start, end + 1);
  } finally {
    await fh.close();
  }
}

async function pump(fh: FileHandle, res: ServerResponse, start: number, stop: number): Promise<void> {
  // A write callback may never run once the client is gone: every wait races the response's close.
  let onClose = () => {};
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(new AppError('INTERNAL', 'client closed the connection'));
  });
  closed.catch(() => {});
  res.once('close', onClose);
  const settled = (p: Promise<void>) => Promise.race([p, closed]);
  // in flight: a write the socket has not yet taken; its buffer is reused only after it settles.
  let inFlight: Promise<void> | undefined;
  let pos = start;
  try {
    while (pos < stop) {
      const buf = takeBuffer();
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, stop - pos), pos);
      if (bytesRead === 0)
        throw new AppError('SIZE_MISMATCH', `file ended at byte ${pos}, ${stop - pos} bytes short`);
      pos += bytesRead;
      // Wait for the previous chunk before queuing this one: at most two buffers per response.
      if (inFlight) await settled(inFlight);
      inFlight = writeChunk(res, buf, bytesRead);
      inFlight.catch(() => {});
    }
    if (inFlight) await settled(inFlight);
    await settled(new Promise<void>((resolve) => res.end(resolve)));
  } finally {
    res.off('close', onClose);
  }
}

/** writeChunk resolves once the socket has taken the bytes, and only then returns the buffer to the pool. */
function writeChunk(res: ServerResponse, buf: Buffer, length: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    res.write(length === buf.length ? buf : buf.subarray(0, length), (err) => {
      if (err) {
        // The socket may still hold a reference: do not reuse this buffer.
        reject(err);
        return;
      }
      giveBack(buf);
      resolve();
    });
  });
}
