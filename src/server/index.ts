/**
 * @module server
 * The undercloud's local registry as a library: start an OCI distribution server on a folder, and
 * collect its garbage. The CLI (`overcloud registry serve|gc`), the upload helper's tests and the
 * benchmarks all start it through startRegistryServer.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { AppError } from '../errors.js';
import { announce, newRegistryId } from './announce.js';
import { createHandler } from './app.js';
import { BasicAuth } from './auth.js';
import type { ServerContext } from './context.js';
import { DEFAULT_LISTEN } from './defaults.js';
import { FsStore } from './storage/fs.js';
import { UploadStore } from './storage/uploads.js';

export { announcedStores, REGISTRY_ID_HEADER, type StoreRecord } from './announce.js';
export { DEFAULT_GRACE_MS, DEFAULT_LISTEN, DEFAULT_ROOT, DEFAULT_UPLOAD_MAX_AGE_MS } from './defaults.js';
export { collectGarbage, type GcOptions, type GcReport } from './gc.js';
export { type LocalStore, openLocalStore } from './local-store.js';

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_SIZE = 64 * 1024 * 1024 * 1024;
/** How long close() waits for in-flight requests before cutting them. */
const DRAIN_TIMEOUT_MS = 30_000;

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
}

export interface RunningRegistryServer {
  /** `http(s)://HOST:PORT`, loopback when listening on all addresses. */
  url: string;
  /** `127.0.0.1:PORT` (or the listen host), as image references name the registry. */
  host: string;
  /** The id this server sends in `Overcloud-Registry-Id`. */
  id: string;
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
  const store = await FsStore.open(opts.root);
  const ctx: ServerContext = {
    store,
    uploads: new UploadStore(store, opts.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE, opts.fsync ?? false),
    readOnly: opts.readOnly ?? false,
    enableDelete: opts.enableDelete ?? false,
    maxManifestSize: MAX_MANIFEST_SIZE,
  };
  const auth = opts.htpasswd === undefined ? undefined : await BasicAuth.load(opts.htpasswd);
  const id = newRegistryId();
  const handler = createHandler(ctx, {
    id,
    auth,
    allowAnonymousPull: opts.allowAnonymousPull ?? false,
    log: opts.log,
  });
  let server: Server;
  if (opts.tls) {
    const [cert, key] = await Promise.all([readFile(opts.tls.cert), readFile(opts.tls.key)]);
    server = createHttpsServer({ cert, key }, handler);
  } else {
    server = createHttpServer(handler);
  }
  // Layer uploads can take longer than Node's default 5-minute request timeout; an idle socket
  // (no bytes either way for 2 minutes) is still cut, and headers must arrive within a minute.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.timeout = 120_000;
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const { host, port } = parseListen(opts.listen ?? DEFAULT_LISTEN);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const hostPort = `${shownHost}:${actualPort}`;
  const unannounce =
    opts.announce && !ctx.readOnly
      ? await announce({
          id,
          pid: process.pid,
          root: resolvePath(opts.root),
          listen: `${host}:${actualPort}`,
        })
      : async () => {};
  return {
    url: `${opts.tls ? 'https' : 'http'}://${hostPort}`,
    host: hostPort,
    id,
    async close() {
      // First: no client should start writing the store of a registry that is going away.
      await unannounce();
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
    },
  };
}
