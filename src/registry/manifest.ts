/**
 * @module registry/manifest
 * Raw manifests as fetched: the exact bytes (so digests survive the copy), their media type and
 * digest, and the parsed view. Schema 1 is refused here, naming the image.
 */
import { AppError } from '../errors.js';
import type { Descriptor, ImageManifest, IndexManifest } from '../oci/descriptor.js';
import { type Digest, isDigest, sha256Of } from '../oci/digest.js';
import { isImageManifestType, isIndexType, MediaType, SCHEMA1_TYPES } from '../oci/media-types.js';

/** RawManifest keeps the bytes as the registry served them; re-serialising would change the digest. */
export interface RawManifest {
  mediaType: string;
  digest: Digest;
  bytes: Buffer;
}

export type ParsedManifest =
  | { kind: 'image'; raw: RawManifest; manifest: ImageManifest }
  | { kind: 'index'; raw: RawManifest; manifest: IndexManifest };

/** descriptorOf describes a raw manifest (for index entries and for pushes by digest). */
export function descriptorOf(raw: RawManifest): Descriptor {
  return { mediaType: raw.mediaType, digest: raw.digest, size: raw.bytes.length };
}

/**
 * parseManifest checks the digest against what was asked for (a pinned digest, or the registry's
 * Docker-Content-Digest) and classifies the manifest. `name` is the image, for messages.
 */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
  name: string,
  expected?: string,
): ParsedManifest {
  const digest = sha256Of(bytes);
  if (expected !== undefined && isDigest(expected) && expected.startsWith('sha256:') && expected !== digest) {
    throw new AppError(
      'DIGEST_MISMATCH',
      `manifest of ${name}: content digest is ${digest}, expected ${expected}`,
    );
  }
  let json: {
    schemaVersion?: number;
    mediaType?: string;
    manifests?: unknown;
    config?: unknown;
    layers?: unknown;
  };
  try {
    json = JSON.parse(bytes.toString('utf8')) as typeof json;
  } catch (e) {
    throw new AppError('MANIFEST_INVALID', `manifest of ${name} is not valid JSON`, { cause: e });
  }
  const ct = contentType?.split(';')[0]?.trim();
  // The body's mediaType is authoritative; some registries send a generic Content-Type.
  let mediaType = json.mediaType ?? ct ?? '';
  if (json.schemaVersion === 1 || SCHEMA1_TYPES.includes(mediaType)) {
    throw new AppError(
      'MANIFEST_UNSUPPORTED',
      `${name} has a Docker schema 1 manifest, which is not supported`,
      {
        hint: 'rebuild or re-push the image with a current tool (docker ≥ 1.10, podman, buildah) to get schema 2 or OCI',
      },
    );
  }
  if (!isImageManifestType(mediaType) && !isIndexType(mediaType)) {
    // OCI allows mediaType to be absent: infer from the shape.
    if (Array.isArray(json.manifests)) mediaType = MediaType.ociIndex;
    else if (json.config && Array.isArray(json.layers)) mediaType = MediaType.ociManifest;
    else {
      throw new AppError('MANIFEST_UNSUPPORTED', `${name} has a manifest of unsupported type "${mediaType}"`);
    }
  }
  const raw: RawManifest = { mediaType, digest, bytes };
  if (isIndexType(mediaType)) {
    if (!Array.isArray(json.manifests)) {
      throw new AppError('MANIFEST_INVALID', `index of ${name} has no manifests list`);
    }
    const index = json as IndexManifest;
    for (const d of index.manifests) checkDescriptor(d, name);
    return { kind: 'index', raw, manifest: index };
  }
  if (!json.config || !Array.isArray(json.layers)) {
    throw new AppError('MANIFEST_INVALID', `manifest of ${name} lacks config or layers`);
  }
  const image = json as ImageManifest;
  for (const d of [image.config, ...image.layers]) checkDescriptor(d, name);
  return { kind: 'image', raw, manifest: image };
}

/** checkDescriptor validates what goes into URLs and size checks: the digest and the size. */
function checkDescriptor(d: Descriptor, name: string): void {
  if (typeof d?.digest !== 'string' || !isDigest(d.digest)) {
    throw new AppError(
      'MANIFEST_INVALID',
      `manifest of ${name} has an invalid digest "${String(d?.digest)}"`,
    );
  }
  if (!Number.isSafeInteger(d.size) || d.size < 0) {
    throw new AppError('MANIFEST_INVALID', `manifest of ${name}: ${d.digest} has an invalid size`);
  }
}

/** blobsOf lists config then layers; foreign layers (with urls) are left where they are. */
export function blobsOf(m: ImageManifest): Descriptor[] {
  return [
    m.config,
    ...m.layers.filter((l) => !l.urls?.length && l.mediaType !== MediaType.dockerForeignLayer),
  ];
}
