/**
 * @module upload/source
 * Where an upload reads images from. A source resolves a reference to a digest-checked manifest
 * and opens blobs as streams that are checked against their descriptor while they flow (the
 * last chunk is held back until the digest matched). Two kinds: a registry repository, and an
 * OCI image layout on disk (./layout-source.ts), e.g. what `podman save --format oci-dir` writes.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { ParsedManifest, RegistryClient } from '../registry/index.js';

/** BlobSource opens an image's blobs (config and layers). */
export interface BlobSource {
  /** where the blobs come from, for messages: `host/repository` or `oci:<dir>` */
  readonly name: string;
  /** blob streams exactly desc.size bytes; a wrong byte or length fails the stream at its end */
  blob(desc: Descriptor, onBytes?: (n: number) => void): Readable;
}

/** ImageSource adds manifests to a blob source. */
export interface ImageSource extends BlobSource {
  /** manifest resolves a tag (or layout ref name) or a digest to a manifest whose digest was checked */
  manifest(reference: string): Promise<ParsedManifest>;
}

/** registrySource reads one repository of a registry. */
export function registrySource(client: RegistryClient, repository: string): ImageSource {
  const name = `${client.host}/${repository}`;
  return {
    name,
    manifest: (reference) => client.getManifest(repository, reference),
    blob: (desc, onBytes) => client.blobReader(repository, desc, `blob ${desc.digest} of ${name}`, onBytes),
  };
}
