/**
 * @module server/defaults
 * The registry's documented defaults, apart from the server itself so that the CLI can show them
 * in its help without loading the server.
 */

/** The documented data folder of `overcloud registry serve`. */
export const DEFAULT_ROOT = '/var/lib/overcloud/registry';
/** TripleO's undercloud registry port. */
export const DEFAULT_LISTEN = '0.0.0.0:8787';
/** gc leaves blobs younger than this alone: a push may be about to reference them. */
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
/** gc removes upload sessions untouched for this long. */
export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Upload sessions older than this are purged by the server itself (distribution's uploadpurging age: 168h). */
export const DEFAULT_UPLOAD_PURGE_AGE_MS = 168 * 60 * 60 * 1000;
/** How often the server purges old upload sessions (distribution's interval: 24h). */
export const DEFAULT_UPLOAD_PURGE_INTERVAL_MS = 24 * 60 * 60 * 1000;
/** A request's headers must arrive within this. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
/** A whole request (headers and body) must arrive within this; 0 means no limit. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60 * 60 * 1000;
/** A socket with no traffic either way for this long is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
/** A request body slower than this (bytes/s, averaged over MIN_RATE_WINDOW_MS) is cut; 0 disables. */
export const DEFAULT_MIN_BODY_RATE = 4096;
/** The window over which a body's rate is measured. */
export const MIN_RATE_WINDOW_MS = 30_000;
/** Connections open at once at most; more are refused. */
export const DEFAULT_MAX_CONNECTIONS = 512;
