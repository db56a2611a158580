/**
 * @module server/options
 * What `startRegistryServer` takes (its own file so that start-up helpers can name it without
 * importing the entry point).
 */
export interface RegistryServerOptions {
  root: string;
  /** `host:port`; port 0 picks a free one. Default 0.0.0.0:8787. */
  listen?: string;
  tls?: { cert: string; key: string };
  /** An htpasswd file (bcrypt): every request then needs Basic credentials. */
  htpasswd?: string;
  /** With htpasswd: let GET/HEAD through without credentials. */
  allowAnonymousPull?: boolean;
  readOnly?: boolean;
  enableDelete?: boolean;
  /** Receives one Common Log Format line per request. */
  log?: (line: string) => void;
  maxBlobSize?: number;
  /** fsync every blob before it becomes visible: survives power loss, at a large cost in push speed. */
  fsync?: boolean;
  /**
   * Tell clients on this machine where the store is (./announce.ts), so uploads write into it
   * directly. `registry serve` does; a read-only server never does.
   */
  announce?: boolean;
  /** Upload sessions older than this are purged (default 168 h, as distribution). */
  uploadPurgeAgeMs?: number;
  /** How often that purge runs (default 24 h); 0 disables it. */
  uploadPurgeIntervalMs?: number;
  headersTimeoutMs?: number;
  /** A whole request must arrive within this (default 1 h); 0: no limit. */
  requestTimeoutMs?: number;
  /** A socket silent for this long is closed (default 120 s). */
  idleTimeoutMs?: number;
  /** Request bodies slower than this many bytes/s (over 30 s) are cut (default 4096); 0 disables. */
  minBodyRate?: number;
  /** The window that rate is averaged over (default 30 s; tests shorten it). */
  minBodyRateWindowMs?: number;
  /** Connections at once at most (default 512). */
  maxConnections?: number;
  /** Receives start-up warnings (default: stderr). */
  warn?: (message: string) => void;
}
