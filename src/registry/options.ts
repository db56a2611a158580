/**
 * @module registry/options
 * Tuned defaults in one place, each with the reason it has the value it has.
 */

/** Parallel transfers: what skopeo and TripleO's Stein uploader settled on; the registry is the bottleneck. */
export const DEFAULT_PARALLEL = 4;
/** Blob transfers at once when every destination is a local store written in place (upload/). */
export const DIRECT_STORE_PARALLEL = 8;

/**
 * Blobs up to this size go up in one PUT (the cheapest exchange: POST + PUT). Larger ones go in
 * PATCH chunks so a registry or proxy with a request-size limit still takes them.
 */
export const MONOLITHIC_MAX_BYTES = 512 * 1024 * 1024;
/** Size of one PATCH in a chunked upload; a server's OCI-Chunk-Min-Length wins when larger. */
export const CHUNK_BYTES = 128 * 1024 * 1024;

/** Attempts per request or blob transfer (TripleO used 5 with random exponential back-off). */
export const MAX_ATTEMPTS = 5;
/** First back-off; doubles each attempt, full jitter, capped. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
/** A Retry-After longer than this is not worth waiting for in an interactive run. */
export const RETRY_AFTER_MAX_MS = 60_000;

/** Time-outs: a registry that sends no headers for 30 s, or no body bytes for 60 s, is stuck. */
export const CONNECT_TIMEOUT_MS = 10_000;
export const HEADERS_TIMEOUT_MS = 30_000;
export const BODY_TIMEOUT_MS = 60_000;

/** Catalog and tags page size (`?n=`); ECR and Harbor cap pages at 1000. */
export const PAGE_SIZE = 1000;

/** Manifests and configs are read into memory, so cap them (distribution's own limit is 4 MiB). */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
export const CONFIG_MAX_BYTES = 16 * 1024 * 1024;
/** Error bodies are read only for the message; a hostile server must not make us buffer much. */
export const ERROR_BODY_MAX_BYTES = 64 * 1024;

/** Token lifetime when the token server does not say (the distribution token spec's default). */
export const TOKEN_DEFAULT_TTL_S = 60;

export const USER_AGENT = 'overcloud/0.1.0';

/** RetryOptions lets tests (and impatient callers) shorten the back-off. */
export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: MAX_ATTEMPTS,
  baseMs: BACKOFF_BASE_MS,
  maxMs: BACKOFF_MAX_MS,
};
