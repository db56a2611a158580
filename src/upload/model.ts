/**
 * @module upload/model
 * The values passed between the upload stages: resolved images (what the sources hold), the
 * destination's state, and the plan. The plan is plain data (structured fields, no live objects):
 * `container image upload --dry-run --json` prints it as it is, and the executor carries it out
 * with the manifests' bytes, which it looks up by digest in the resolved images.
 */
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import type { RawManifest } from '../registry/index.js';
import type { UploadTask } from './images-file.js';

/** SourceRef names where an image's blobs are read from: a registry repository, or an OCI layout. */
export type SourceRef =
  | { kind: 'registry'; host: string; repository: string }
  | { kind: 'layout'; dir: string };

/** RepoRef is one repository of one registry. */
export interface RepoRef {
  host: string;
  repository: string;
}

/** BlobLocation is a blob in one repository of one registry. */
export interface BlobLocation extends RepoRef {
  digest: Digest;
}

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
  /** Where its blobs are read from when not from the source registry (an OCI layout folder). */
  layout?: string;
}

/** DestinationState is what the destination registries already hold (from HEAD requests). */
export interface DestinationState {
  /** tagKey(host, repo, tag) → the digest the tag points at now (absent: no such tag). */
  tags: ReadonlyMap<string, Digest>;
  /** Every blob known present. */
  blobs: readonly BlobLocation[];
}

/** tagKey is the key of DestinationState.tags (a lookup key only: it is never split again). */
export const tagKey = (host: string, repo: string, tag: string): string => `${host}/${repo}:${tag}`;

/** BlobCopy moves one blob over the wire, once per destination registry. */
export interface BlobCopy {
  blob: Descriptor;
  from: SourceRef;
  to: BlobLocation;
}

/** BlobMount links a blob already on the destination registry into another repository. */
export interface BlobMount {
  blob: Descriptor;
  to: BlobLocation;
  /** The repository of the same registry that holds it (or will, once `after` landed). */
  fromRepository: string;
  /** The copy that must land first (absent: the blob was already there). */
  after?: BlobLocation;
  /** Where to fetch it if the registry declines the mount. */
  fallback: SourceRef;
}

/** ManifestPush is one manifest PUT, by digest (an index's children) or by the target tag. */
export interface ManifestPush {
  reference: string;
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface ImagePlan {
  /** `source -> target`, for messages and progress. */
  name: string;
  source: string;
  target: string;
  /** The target repository the manifests go to. */
  to: RepoRef;
  /** The root manifest's digest: what the target tag will name. */
  digest: Digest;
  /** 'present': the target tag already names the source digest; nothing to do. */
  action: 'present' | 'copy';
  /** Blobs that must be present before any manifest push. */
  needs: BlobLocation[];
  /** Manifests in push order: children by digest, then the root by tag. */
  manifests: ManifestPush[];
}

export interface UploadPlan {
  images: ImagePlan[];
  /** Largest first: the longest transfers start early and the run ends sooner. */
  copies: BlobCopy[];
  mounts: BlobMount[];
  /** Blobs already present that images need. */
  existing: BlobLocation[];
  bytesToCopy: number;
}

/** locationKey keys a blob location in the executor's maps (a lookup key only). */
export const locationKey = (l: BlobLocation): string => `${l.host}/${l.repository}@${l.digest}`;
