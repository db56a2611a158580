/**
 * @module server/accept-manifest
 * Storing a pushed manifest: checked (./manifest-check.ts), its digest agreeing with the reference,
 * and everything it references already in the repository (MANIFEST_BLOB_UNKNOWN otherwise), so a
 * tag never points at a broken image. The server's PUT and an upload writing into a local store
 * (upload/store-destination.ts) both come through here.
 */
import { createHash } from 'node:crypto';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, digestAlgorithm, sha256Of } from '../oci/digest.js';
import { badRequest, type RegistryHttpError } from './errors.js';
import { checkManifest } from './manifest-check.js';
import type { ManifestRef } from './names.js';
import type { FsStore } from './storage/fs.js';

function digestOf(body: Buffer, like: Digest | undefined): Digest {
  if (like === undefined || digestAlgorithm(like) === 'sha256') return sha256Of(body);
  return `sha512:${createHash('sha512').update(body).digest('hex')}` as Digest;
}

function blobMissing(d: Descriptor): RegistryHttpError {
  return badRequest('MANIFEST_BLOB_UNKNOWN', 'manifest references a blob unknown to this repository', {
    digest: d.digest,
  });
}

/** acceptManifest checks and stores a manifest under a tag or digest; it returns its digest and subject. */
export async function acceptManifest(
  store: FsStore,
  name: string,
  ref: ManifestRef,
  body: Buffer,
  contentType: string | undefined,
): Promise<{ digest: Digest; subject: Digest | undefined }> {
  const checked = checkManifest(body, contentType);
  const digest = digestOf(body, ref.digest);
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw badRequest('DIGEST_INVALID', 'manifest digest does not match the reference', {
      digest: ref.digest,
      actual: digest,
    });
  }
  for (const b of checked.blobs) {
    if ((await store.linkedBlobSize(name, b.digest)) === undefined) throw blobMissing(b);
  }
  for (const m of checked.manifests) {
    if ((await store.manifestMediaType(name, m.digest)) === undefined) throw blobMissing(m);
  }
  const referrer: Descriptor = { mediaType: checked.mediaType, digest, size: body.length };
  if (checked.artifactType !== undefined) referrer.artifactType = checked.artifactType;
  if (checked.annotations !== undefined) referrer.annotations = checked.annotations;
  await store.putManifest(
    name,
    { digest, mediaType: checked.mediaType, body },
    { tag: ref.tag, subject: checked.subject?.digest, referrer },
  );
  return { digest, subject: checked.subject?.digest };
}
