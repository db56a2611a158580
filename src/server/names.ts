/**
 * @module server/names
 * Validation of every URL part that can reach the filesystem. Repository names, tags, digests and
 * upload ids are checked against the spec's grammar here, so that no `..`, absolute path or stray
 * separator can ever become part of a path in storage.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
import { type Digest, isDigest } from '../oci/digest.js';
import { isValidRepository, isValidTag } from '../oci/reference.js';
import { badRequest } from './errors.js';

/** A manifest reference: either a tag or a digest, told apart once here. */
export type ManifestRef = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

/** checkName returns the repository name or throws NAME_INVALID. */
export function checkName(name: string): string {
  if (!isValidRepository(name)) throw badRequest('NAME_INVALID', 'invalid repository name', { name });
  return name;
}

/** checkDigest returns the digest or throws DIGEST_INVALID. */
export function checkDigest(value: string): Digest {
  if (!isDigest(value)) throw badRequest('DIGEST_INVALID', 'provided digest is invalid', { digest: value });
  return value;
}

/** parseManifestRef tells a digest (it has a colon) from a tag; a bad tag is MANIFEST_INVALID, as distribution says. */
export function parseManifestRef(value: string): ManifestRef {
  if (value.includes(':')) return { digest: checkDigest(value) };
  if (!isValidTag(value)) throw badRequest('MANIFEST_INVALID', 'invalid tag', { tag: value });
  return { tag: value };
}

const UPLOAD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** isUploadId accepts only the UUIDs the server hands out. */
export function isUploadId(id: string): boolean {
  return UPLOAD_ID_RE.test(id);
}
