/**
 * @module server/manifests
 * Manifest pull, push and delete, by tag or digest.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */

import { createHash } from 'node:crypto';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, sha256Of } from '../oci/digest.js';
import { readSmallBody } from './body.js';
import { type Exchange, type ServerContext, send } from './context.js';
import { badRequest, manifestUnknown, type RegistryHttpError, unsupported } from './errors.js';
import { checkManifest } from './manifest-check.js';
import type { ManifestRef } from './names.js';
import type { StoredManifest } from './storage/fs.js';

async function resolve(ctx: ServerContext, name: string, ref: ManifestRef): Promise<StoredManifest> {
  const digest = ref.digest ?? (await ctx.store.resolveTag(name, ref.tag));
  const m = digest === undefined ? undefined : await ctx.store.getManifest(name, digest);
  if (m === undefined) throw manifestUnknown(ref.digest ?? ref.tag);
  return m;
}

/** getManifest serves the stored bytes with their media type (GET and HEAD). */
export async function getManifest(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  ref: ManifestRef,
): Promise<void> {
  const m = await resolve(ctx, name, ref);
  send(
    ex,
    200,
    { 'content-type': m.mediaType, 'docker-content-digest': m.digest, etag: `"${m.digest}"` },
    m.body,
  );
}

function digestOf(body: Buffer, like: Digest | undefined): Digest {
  if (like === undefined || digestAlgorithm(like) === 'sha256') return sha256Of(body);
  return `sha512:${createHash('sha512').update(body).digest('hex')}` as Digest;
}

/**
 * putManifest stores a manifest after checking it and that everything it references is already in
 * the repository (MANIFEST_BLOB_UNKNOWN otherwise), so a tag never points at a broken image.
 */
export async function putManifest(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  ref: ManifestRef,
): Promise<void> {
  const body = await readSmallBody(ex.req, ctx.maxManifestSize);
  const checked = checkManifest(body, ex.req.headers['content-type']);
  const digest = digestOf(body, ref.digest);
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw badRequest('DIGEST_INVALID', 'manifest digest does not match the reference', {
      digest: ref.digest,
      actual: digest,
    });
  }
  for (const b of checked.blobs) {
    if ((await ctx.store.linkedBlobSize(name, b.digest)) === undefined) throw blobMissing(b);
  }
  for (const m of checked.manifests) {
    if ((await ctx.store.manifestMediaType(name, m.digest)) === undefined) throw blobMissing(m);
  }
  const referrer: Descriptor = { mediaType: checked.mediaType, digest, size: body.length };
  if (checked.artifactType !== undefined) referrer.artifactType = checked.artifactType;
  if (checked.annotations !== undefined) referrer.annotations = checked.annotations;
  await ctx.store.putManifest(
    name,
    { digest, mediaType: checked.mediaType, body },
    { tag: ref.tag, subject: checked.subject?.digest, referrer },
  );
  const headers: Record<string, string> = {
    location: `/v2/${name}/manifests/${digest}`,
    'docker-content-digest': digest,
  };
  if (checked.subject !== undefined) headers['oci-subject'] = checked.subject.digest;
  send(ex, 201, headers);
}

function blobMissing(d: Descriptor): RegistryHttpError {
  return badRequest('MANIFEST_BLOB_UNKNOWN', 'manifest references a blob unknown to this repository', {
    digest: d.digest,
  });
}

/** deleteManifest removes a manifest by digest (with its tags) or just a tag (202). */
export async function deleteManifest(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  ref: ManifestRef,
): Promise<void> {
  if (!ctx.enableDelete) throw unsupported('deletion is disabled (start the server with --enable-delete)');
  if (ref.tag !== undefined) {
    if (!(await ctx.store.deleteTag(name, ref.tag))) throw manifestUnknown(ref.tag);
  } else {
    const m = await ctx.store.getManifest(name, ref.digest);
    if (m === undefined) throw manifestUnknown(ref.digest);
    let subject: Digest | undefined;
    try {
      subject = checkManifest(m.body, m.mediaType).subject?.digest;
    } catch {
      subject = undefined;
    }
    if (!(await ctx.store.deleteManifest(name, ref.digest, subject))) throw manifestUnknown(ref.digest);
  }
  send(ex, 202, {});
}
