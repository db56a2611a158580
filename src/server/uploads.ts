/**
 * @module server/uploads
 * Blob push: monolithic (POST ?digest=, or POST then PUT), chunked (POST, PATCH..., PUT), upload
 * status, cancel, and cross-repository mount.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
 */
import type { Digest } from '../oci/digest.js';
import { isValidRepository } from '../oci/reference.js';
import { declaredLength, type Exchange, hasBody, type ServerContext, send } from './context.js';
import { badRequest, RegistryHttpError, uploadUnknown } from './errors.js';
import { checkDigest } from './names.js';
import { parseContentRange, uploadRangeHeader } from './range.js';
import type { UploadSession } from './storage/uploads.js';

const location = (s: UploadSession): string => `/v2/${s.name}/blobs/uploads/${s.id}`;

function sessionHeaders(s: UploadSession): Record<string, string> {
  return { location: location(s), range: uploadRangeHeader(s.offset), 'docker-upload-uuid': s.id };
}

async function committed(ctx: ServerContext, ex: Exchange, name: string, digest: Digest): Promise<void> {
  await ctx.store.linkBlob(name, digest);
  send(ex, 201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
}

/**
 * startUpload handles POST /v2/<name>/blobs/uploads/: a mount (201 when the blob can be mounted,
 * else a fresh session, 202), a monolithic upload with `?digest=` (201), or a new session (202).
 */
export async function startUpload(ctx: ServerContext, ex: Exchange, name: string): Promise<void> {
  const mount = ex.query.get('mount');
  if (mount !== null) {
    const digest = checkDigest(mount);
    const from = ex.query.get('from');
    // Without `from` the spec lets a registry mount from any repository the client may read; with a
    // single access level (htpasswd users may read everything) that is the whole store.
    const size =
      from !== null && isValidRepository(from)
        ? await ctx.store.linkedBlobSize(from, digest)
        : from === null
          ? await ctx.store.blobSize(digest)
          : undefined;
    if (size !== undefined) {
      await ctx.store.touchBlob(digest);
      await committed(ctx, ex, name, digest);
      return;
    }
  }
  const digestParam = ex.query.get('digest');
  if (digestParam !== null) {
    const digest = checkDigest(digestParam);
    const session = await ctx.uploads.create(name);
    await finish(ctx, ex, session, digest);
    return;
  }
  if (hasBody(ex.req)) throw badRequest('BLOB_UPLOAD_INVALID', 'a POST with a body needs ?digest=');
  const session = await ctx.uploads.create(name);
  send(ex, 202, sessionHeaders(session));
}

async function sessionOf(ctx: ServerContext, name: string, id: string): Promise<UploadSession> {
  const s = await ctx.uploads.get(name, id);
  if (s === undefined) throw uploadUnknown(id);
  return s;
}

/** uploadStatus answers GET on a session with its current range (204). */
export async function uploadStatus(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  id: string,
): Promise<void> {
  send(ex, 204, sessionHeaders(await sessionOf(ctx, name, id)));
}

/**
 * checkChunkRange enforces the spec's ordering: a chunk's Content-Range must start at the current
 * offset (416 otherwise, with the session's range so the client can resume), and its length must
 * agree with Content-Length.
 */
function checkChunkRange(ex: Exchange, s: UploadSession): void {
  const header = ex.req.headers['content-range'];
  if (header === undefined) return;
  const range = parseContentRange(header);
  const outOfOrder = (): RegistryHttpError =>
    new RegistryHttpError(416, 'BLOB_UPLOAD_INVALID', 'chunk does not start at the upload offset', {
      detail: { offset: s.offset, contentRange: header },
      headers: sessionHeaders(s),
    });
  if (range === undefined) throw outOfOrder();
  if (range.start !== s.offset) throw outOfOrder();
  const len = declaredLength(ex.req);
  if (len !== undefined && len !== range.end - range.start + 1) {
    throw badRequest('BLOB_UPLOAD_INVALID', 'Content-Range and Content-Length disagree', {
      contentRange: header,
      contentLength: len,
    });
  }
}

/** patchUpload appends one chunk (202 with the new range). */
export async function patchUpload(ctx: ServerContext, ex: Exchange, name: string, id: string): Promise<void> {
  const s = await sessionOf(ctx, name, id);
  checkChunkRange(ex, s);
  const release = ctx.uploads.lock(s);
  try {
    await ctx.uploads.append(s, ex.req);
  } finally {
    release();
  }
  send(ex, 202, sessionHeaders(s));
}

/** putUpload appends an optional last chunk, verifies `?digest=` and commits (201). */
export async function putUpload(ctx: ServerContext, ex: Exchange, name: string, id: string): Promise<void> {
  const digestParam = ex.query.get('digest');
  if (digestParam === null) throw badRequest('DIGEST_INVALID', 'PUT needs ?digest=');
  const digest = checkDigest(digestParam);
  const s = await sessionOf(ctx, name, id);
  checkChunkRange(ex, s);
  await finish(ctx, ex, s, digest);
}

async function finish(ctx: ServerContext, ex: Exchange, s: UploadSession, digest: Digest): Promise<void> {
  const release = ctx.uploads.lock(s);
  try {
    if (hasBody(ex.req)) {
      const whole = s.offset === 0 ? { digest, size: declaredLength(ex.req) } : undefined;
      await ctx.uploads.append(s, ex.req, whole);
    }
    await ctx.uploads.commit(s, digest);
  } catch (e) {
    // A monolithic upload that failed has nothing worth resuming.
    if (ex.method === 'POST') await ctx.uploads.cancel(s);
    throw e;
  } finally {
    release();
  }
  await committed(ctx, ex, s.name, digest);
}

/** cancelUpload removes a session (204). */
export async function cancelUpload(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  id: string,
): Promise<void> {
  await ctx.uploads.cancel(await sessionOf(ctx, name, id));
  send(ex, 204, {});
}
