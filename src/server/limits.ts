/**
 * @module server/limits
 * What keeps a slow or idle client from holding the server: Node's own header, request and idle
 * timeouts, a cap on connections, and a minimum body rate (Node has none: a client sending one
 * byte every 20 s would keep an upload open for ever under the idle timeout alone).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { MIN_RATE_WINDOW_MS } from './defaults.js';
import { RegistryHttpError, writeError } from './errors.js';

export interface ConnectionLimits {
  headersTimeoutMs: number;
  /** 0: no limit on a whole request. */
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

/**
 * checkingInterval is how often Node looks for requests past their header or request timeout:
 * its default (30 s) would let a 5 s headers timeout run for 30 s.
 */
export function checkingInterval(limits: ConnectionLimits): number {
  const shortest = Math.min(
    limits.headersTimeoutMs,
    limits.requestTimeoutMs > 0 ? limits.requestTimeoutMs : Number.POSITIVE_INFINITY,
  );
  return Math.max(100, Math.min(30_000, Math.floor(shortest / 4)));
}

/** applyLimits sets the server's timeouts and connection cap. */
export function applyLimits(server: Server, limits: ConnectionLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.timeout = limits.idleTimeoutMs;
  server.keepAliveTimeout = Math.min(30_000, limits.idleTimeoutMs);
  server.maxConnections = limits.maxConnections;
}

/**
 * watchBodyRate cuts a request whose body arrives slower than `minBytesPerSec` over each window
 * (counted on the socket, so the watch never reads the body itself). Requests without a body, and
 * a body already received, are not watched. The reply is a 408 when headers are not out yet.
 */
export function watchBodyRate(
  req: IncomingMessage,
  res: ServerResponse,
  minBytesPerSec: number,
  windowMs = MIN_RATE_WINDOW_MS,
): void {
  if (minBytesPerSec <= 0) return;
  const declared = req.headers['content-length'];
  if ((declared === undefined || declared === '0') && req.headers['transfer-encoding'] === undefined) return;
  const socket = req.socket;
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    const now = socket.bytesRead;
    const rate = ((now - last) * 1000) / windowMs;
    last = now;
    if (rate >= minBytesPerSec) return;
    clearInterval(timer);
    res.setHeader('connection', 'close');
    writeError(
      res,
      req.method ?? 'GET',
      new RegistryHttpError(408, 'BLOB_UPLOAD_INVALID', `request body slower than ${minBytesPerSec} bytes/s`),
    );
    // The body will not be read further; the socket goes once the reply is out.
    setTimeout(() => socket.destroy(), 1000).unref();
  }, windowMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
