/**
 * @module server/context
 * What every handler gets: the stores, the server's switches, and small response helpers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FsStore } from './storage/fs.js';
import type { UploadStore } from './storage/uploads.js';

export interface ServerContext {
  store: FsStore;
  uploads: UploadStore;
  readOnly: boolean;
  enableDelete: boolean;
  /** The largest manifest accepted, in bytes (the spec suggests at least 4 MiB). */
  maxManifestSize: number;
  /** Bodies slower than this (bytes/s) are cut; 0: never. */
  minBodyRate: number;
  minBodyRateWindowMs: number;
}

/** A request as handlers see it: the raw message, the response, and the parsed query. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
}

/** send writes a complete small response; HEAD gets the same headers and no body. */
export function send(
  ex: Exchange,
  status: number,
  headers: Record<string, string | number>,
  body?: Buffer | string,
): void {
  const { res } = ex;
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body !== undefined && !res.hasHeader('content-length'))
    res.setHeader('content-length', Buffer.byteLength(body));
  if (body === undefined && !res.hasHeader('content-length')) res.setHeader('content-length', 0);
  res.end(ex.method === 'HEAD' ? undefined : body);
}

/** sendJson writes a JSON document. */
export function sendJson(
  ex: Exchange,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  send(ex, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(value));
}

/** hasBody tells whether a request carries a body (a Content-Length above 0, or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** declaredLength reads Content-Length as a number, or undefined. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const len = req.headers['content-length'];
  if (len === undefined || !/^\d+$/.test(len)) return undefined;
  return Number(len);
}
