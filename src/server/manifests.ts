/**
 * @module server/manifests
 * Manifest pull, push and delete, by tag or digest.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */

import type { Digest } from '../oci/digest.js';
import { acceptManifest } from './accept-manifest.js';
import { readSmallBody } from './body.js';
import { type Exchange, type ServerContext, send } from './context.js';
import { manifestUnknown, unsupported } from './errors.js';
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

/** putManifest stores a pushed manifest (see ./accept-manifest.ts) and answers 201. */
export async function putManifest(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  ref: ManifestRef,
): Promise<void> {
  const body = await readSmallBody(ex.req, ctx.maxManifestSize);
  const { digest, subject } = await acceptManifest(
    ctx.store,
    name,
    ref,
    body,
    ex.req.headers['content-type'],
  );
  const headers: Record<string, string> = {
    location: `/v2/${name}/manifests/${digest}`,
    'docker-content-digest': digest,
  };
  if (subject !== undefined) headers['oci-subject'] = subject;
  send(ex, 201, headers);
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
