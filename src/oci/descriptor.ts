/**
 * @module oci/descriptor
 * Descriptors and manifests: the small value types every stage passes around.
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md
 */
import type { Digest } from './digest.js';

/** Descriptor points at content: what it is, its digest and its size. The same shape everywhere. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** ImageManifest is a Docker schema 2 or OCI image manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** IndexManifest is a Docker manifest list or OCI image index. */
export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** platformString renders `os/arch[/variant]`. */
export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}
