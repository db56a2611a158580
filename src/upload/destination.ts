/**
 * @module upload/destination
 * Where an upload writes. A destination answers what it holds, takes verified blob streams,
 * links blobs between repositories and stores manifests. Two kinds: a registry over HTTP (the
 * RegistryClient itself has exactly these methods), and the store of a registry that runs on this
 * machine, written in place (./store-destination.ts).
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import {
  type PushOptions,
  type RawManifest,
  RegistryClient,
  type RegistrySession,
} from '../registry/index.js';

export interface Destination {
  /** `host:port`, as image references name the registry. */
  readonly host: string;
  /** What a tag (or digest) names now, or undefined. */
  headManifest(repo: string, reference: string): Promise<Descriptor | undefined>;
  blobExists(repo: string, desc: Descriptor): Promise<boolean>;
  /** Stores a blob from a stream that checks its own digest and size (every BlobSource's does). */
  pushBlob(repo: string, desc: Descriptor, body: Readable, opts?: PushOptions): Promise<void>;
  /** Links a blob the registry holds in `from` into `repo`; false when it cannot. */
  mountBlob(repo: string, digest: Digest, from: string): Promise<boolean>;
  putManifest(repo: string, reference: string, raw: RawManifest): Promise<void>;
}

/** Destinations finds the destination for a registry host. */
export type Destinations = (host: string) => Destination;

/** over HTTP: every host is the session's client. */
export const registryDestinations =
  (session: RegistrySession): Destinations =>
  (host) =>
    session.client(host);

/** isRegistry tells an HTTP destination (which can take resumable chunked copies) from a local store. */
export function isRegistry(d: Destination): d is RegistryClient {
  return d instanceof RegistryClient;
}
