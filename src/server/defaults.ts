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
