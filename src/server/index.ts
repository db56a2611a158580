/**
 * @module server
 * The undercloud's local registry as a library: start an OCI distribution server on a folder, and
 * collect its garbage. The CLI (`overcloud registry serve|gc`), the upload helper's tests and the
 * benchmarks all start it through startRegistryServer.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { AppError } from '../errors.js';
import { newRegistryId, newRegistrySecret } from './announce.js';
import { createHandler } from './app.js';
import { BasicAuth } from './auth.js';
import type { ServerContext } from './context.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MIN_BODY_RATE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_UPLOAD_PURGE_AGE_MS,
  DEFAULT_UPLOAD_PURGE_INTERVAL_MS,
  MIN_RATE_WINDOW_MS,
} from './defaults.js';
import { applyLimits, checkingInterval } from './limits.js';
import { announceOrWarn, listen, openStore, readTls, startUploadPurge } from './startup.js';
import { UploadStore } from './storage/uploads.js';

// What the in-place writer of `container image upload` (src/upload/store-destination.ts) uses: the
// store, its manifest rules, and the announce records with their challenge.
export { acceptManifest } from './accept-manifest.js';
export {
  announcedStores,
  CHALLENGE_HEADER,
  newNonce,
  PROOF_HEADER,
  proofMatches,
  REGISTRY_ID_HEADER,
  type StoreRecord,
} from './announce.js';
export { checkStore, type StoreCheckReport } from './check.js';
export { DEFAULT_GRACE_MS, DEFAULT_LISTEN, DEFAULT_ROOT, DEFAULT_UPLOAD_MAX_AGE_MS } from './defaults.js';
export { collectGarbage, type GcOptions, type GcReport } from './gc.js';
export { type LocalStore, openLocalStore } from './local-store.js';
export { checkName, parseManifestRef } from './names.js';

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_SIZE = 64 * 1024 * 1024 * 1024;
/** How long close() waits for in-flight requests before cutting them. */
const DRAIN_TIMEOUT_MS = 30_000;

import type { RegistryServerOptions } from './options.js';

export type { RegistryServerOptions };

export interface RunningRegistryServer {
  /** `http(s)://HOST:PORT`, loopback when listening on all addresses. */
  url: string;
  /** `127.0.0.1:PORT` (or the listen host), as image references name the registry. */
  host: string;
  /** The id this server sends in `Overcloud-Registry-Id` (in answer to a challenge). */
  id: string;
  /** The server's upload sessions (tests look at their count). */
  uploads: UploadStore;
  /** close stops accepting, lets in-flight requests finish (up to 30 s), then resolves. */
  close(): Promise<void>;
}

/** parseListen splits `host:port` (IPv6 in brackets). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    throw new AppError('USAGE', `invalid listen address "${listen}": expected HOST:PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** startRegistryServer opens the store, listens, and resolves once the server accepts connections. */
export async function startRegistryServer(opts: RegistryServerOptions): Promise<RunningRegistryServer> {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`overcloud registry: warning: ${m}\n`));
  const store = await openStore(opts);
  const ctx: ServerContext = {
    store,
    uploads: new UploadStore(store, opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE, opts.fsync ?? false),
    readOnly: opts.readOnly ?? false,
    enableDelete: opts.enableDelete ?? false,
    maxManifestSize: MAX_MANIFEST_SIZE,
    minBodyRate: opts.minBodyRate ?? DEFAULT_MIN_BODY_RATE,
    minBodyRateWindowMs: opts.minBodyRateWindowMs ?? MIN_RATE_WINDOW_MS,
  };
  const auth = opts.htpasswd === undefined ? undefined : await BasicAuth.load(opts.htpasswd);
  const id = newRegistryId();
  const secret = newRegistrySecret();
  const handler = createHandler(ctx, {
    id,
    secret,
    auth,
    allowAnonymousPull: opts.allowAnonymousPull ?? false,
    log: opts.log,
  });
  // Layer uploads can take long: the whole-request limit is generous, and a slow body is cut by
  // the minimum rate instead (./limits.ts).
  const limits = {
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxConnections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  };
  const serverOptions = { connectionsCheckingInterval: checkingInterval(limits) };
  const server: Server = opts.tls
    ? createHttpsServer({ ...(await readTls(opts.tls)), ...serverOptions }, handler)
    : createHttpServer(serverOptions, handler);
  applyLimits(server, limits);
  // A malformed request line or a reset before the handler runs: answer 400 if possible, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    try {
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    } finally {
      socket.destroy();
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listenAt = opts.listen ?? DEFAULT_LISTEN;
  const { host, port } = parseListen(listenAt);
  await listen(server, host, port, listenAt);
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const hostPort = `${shownHost}:${actualPort}`;
  const unannounce =
    opts.announce && !ctx.readOnly
      ? await announceOrWarn(
          { id, pid: process.pid, root: resolvePath(opts.root), listen: `${host}:${actualPort}`, secret },
          warn,
        )
      : async () => {};
  const stopPurge = startUploadPurge(
    ctx.uploads,
    opts.uploadPurgeAgeMs ?? DEFAULT_UPLOAD_PURGE_AGE_MS,
    opts.uploadPurgeIntervalMs ?? DEFAULT_UPLOAD_PURGE_INTERVAL_MS,
    warn,
  );
  return {
    url: `${opts.tls ? 'https' : 'http'}://${hostPort}`,
    host: hostPort,
    id,
    uploads: ctx.uploads,
    async close() {
      // First: no client should start writing the store of a registry that is going away.
      await unannounce();
      stopPurge();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, DRAIN_TIMEOUT_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      await auth?.close();
    },
  };
}
