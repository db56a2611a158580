/**
 * @module server/body
 * Reading a small request body (a manifest) into memory, never past a limit.
 */
import type { IncomingMessage } from 'node:http';
import { declaredLength } from './context.js';
import { RegistryHttpError } from './errors.js';

/** tooLarge is answered before reading when Content-Length already says too much. */
const tooLarge = (limit: number): RegistryHttpError =>
  new RegistryHttpError(413, 'SIZE_INVALID', `body is larger than the limit of ${limit} bytes`);

/** readSmallBody collects a body of at most `limit` bytes. */
export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(b);
  }
  return Buffer.concat(chunks, total);
}
