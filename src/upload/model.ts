/**
 * @module upload/model
 * The values passed between the upload stages: resolved images (what the sources hold), the
 * destination's state, and the plan.
 */
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { RawManifest } from '../registry/index.js';
import type { UploadTask } from './images-file.js';
import type { BlobSource } from './source.js';

/** One image manifest and the blobs (config first, then layers) it references. */
export interface ImageNode {
  raw: RawManifest;
  blobs: Descriptor[];
}

/** ResolvedImage is a task with its source manifests fetched. */
export interface ResolvedImage {
  task: UploadTask;
  /** What goes under the target tag: an image manifest, or an index over `images`. */
  root: RawManifest;
  /** The image manifests: the root itself, or the index's (selected) children. */
  images: ImageNode[];
  /** True when the root is an index whose children are pushed by digest first. */
  isIndex: boolean;
  /** Where its blobs are read from when not from the source registry (an OCI layout). */
  blobs?: BlobSource;
}

/** DestinationState is what the destination registries already hold (from HEAD requests). */
export interface DestinationState {
  /** `host/repo:tag` → the digest the tag points at now (absent: no such tag). */
  tags: ReadonlyMap<string, Digest>;
  /** `host/repo@digest` for every blob known present. */
  blobs: ReadonlySet<string>;
}

export const tagKey = (host: string, repo: string, tag: string): string => `${host}/${repo}:${tag}`;
export const blobKey = (host: string, repo: string, digest: string): string => `${host}/${repo}@${digest}`;

/** BlobCopy moves one blob over the wire, once per destination registry. */
export interface BlobCopy {
  key: string;
  desc: Descriptor;
  sourceHost: string;
  sourceRepo: string;
  destHost: string;
  destRepo: string;
  /** Read from here instead of sourceHost/sourceRepo (an OCI layout). */
  source?: BlobSource;
}

/** BlobMount links a blob already on the destination registry into another repository. */
export interface BlobMount {
  key: string;
  desc: Descriptor;
  destHost: string;
  destRepo: string;
  fromRepo: string;
  /** The copy that must finish first (undefined: the blob was already there). */
  after?: string;
  /** Where to fetch it if the registry declines the mount. */
  sourceHost: string;
  sourceRepo: string;
  source?: BlobSource;
}

export interface ImagePlan {
  image: ResolvedImage;
  /** 'present': the target tag already names the source digest; nothing to do. */
  action: 'present' | 'copy';
  /** Blob keys (`host/repo@digest`) that must be present before any manifest push. */
  needs: string[];
  /** Manifests in push order: children by digest, then the root by tag. */
  manifests: { raw: RawManifest; reference: string }[];
}

export interface UploadPlan {
  images: ImagePlan[];
  /** Largest first: the longest transfers start early and the run ends sooner. */
  copies: BlobCopy[];
  mounts: BlobMount[];
  /** Blob keys already present that images need. */
  existing: string[];
  bytesToCopy: number;
}
