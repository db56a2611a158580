/**
 * @module server/blobs
 * Blob pull and delete: GET/HEAD with `Range` support, DELETE when enabled.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-blobs
 */
import type { Digest } from '../oci/digest.js';
import { type Exchange, type ServerContext, send } from './context.js';
import { blobUnknown, RegistryHttpError, unsupported } from './errors.js';
import { parseRangeHeader } from './range.js';
import { sendFileRange } from './send-file.js';

/** getBlob serves a blob this repository links to, whole or one byte range (206). */
export async function getBlob(ctx: ServerContext, ex: Exchange, name: string, digest: Digest): Promise<void> {
  const size = await ctx.store.linkedBlobSize(name, digest);
  if (size === undefined) throw blobUnknown(digest);
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'accept-ranges': 'bytes',
    'cache-control': 'max-age=31536000',
  };
  if (ex.method === 'HEAD') {
    // A HEAD usually comes from a pusher about to reference the blob: renew it for gc's grace period.
    await ctx.store.touchBlob(digest);
    send(ex, 200, { ...headers, 'content-length': size });
    return;
  }
  const range = parseRangeHeader(ex.req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new RegistryHttpError(416, 'RANGE_INVALID', 'requested range not satisfiable', {
      headers: { 'content-range': `bytes */${size}` },
    });
  }
  const { res } = ex;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (range === undefined) {
    res.statusCode = 200;
    res.setHeader('content-length', size);
  } else {
    res.statusCode = 206;
    res.setHeader('content-length', range.end - range.start + 1);
    res.setHeader('content-range', `bytes ${range.start}-${range.end}/${size}`);
  }
  if (size === 0) {
    res.end();
    return;
  }
  await sendFileRange(res, ctx.store.blobPath(digest), range?.start ?? 0, range?.end ?? size - 1);
}

/** deleteBlob removes the repository's link to a blob; gc later reclaims unreferenced content. */
export async function deleteBlob(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  digest: Digest,
): Promise<void> {
  if (!ctx.enableDelete) throw unsupported('deletion is disabled (start the server with --enable-delete)');
  if (!(await ctx.store.unlinkBlob(name, digest))) throw blobUnknown(digest);
  send(ex, 202, {});
}
