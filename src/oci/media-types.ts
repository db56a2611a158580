/**
 * @module oci/media-types
 * The manifest and blob media types the tool understands, Docker's and OCI's.
 */

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Manifests of a single image. */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaType.dockerManifest, MediaType.ociManifest];
/** Manifests that list other manifests (one per platform). */
export const INDEX_MANIFEST_TYPES: readonly string[] = [MediaType.dockerManifestList, MediaType.ociIndex];
/** Legacy schema 1, which the tool refuses with a clear error. */
export const SCHEMA1_TYPES: readonly string[] = [MediaType.dockerSchema1, MediaType.dockerSchema1Signed];

/** The Accept header for manifest GET/HEAD: every type we can handle, plus schema 1 so we can name it. */
export const MANIFEST_ACCEPT: string = [
  ...IMAGE_MANIFEST_TYPES,
  ...INDEX_MANIFEST_TYPES,
  ...SCHEMA1_TYPES,
].join(', ');

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_MANIFEST_TYPES.includes(mediaType);
}

export function isImageManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_MANIFEST_TYPES.includes(mediaType);
}
