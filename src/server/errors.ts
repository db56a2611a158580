/**
 * @module server/errors
 * Registry errors as the distribution spec writes them: an HTTP status plus `{"errors":[{code,message,detail}]}`.
 * Handlers throw RegistryHttpError; one function (writeError) turns any thrown value into a response.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
 */
import type { ServerResponse } from 'node:http';
import { AppError, type ErrorCode, errorMessage, isAppError } from '../errors.js';

/** RegistryHttpError is an AppError that knows its HTTP status and extra response headers. */
export class RegistryHttpError extends AppError {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { detail?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(code, message, { detail: opts.detail });
    this.name = 'RegistryHttpError';
    this.status = status;
    this.headers = opts.headers ?? {};
  }
}

/** Statuses for AppErrors raised below the HTTP layer (parsers, DigestVerifier). */
const STATUS_OF: Partial<Record<ErrorCode, [number, ErrorCode]>> = {
  DIGEST_INVALID: [400, 'DIGEST_INVALID'],
  DIGEST_MISMATCH: [400, 'DIGEST_INVALID'],
  SIZE_MISMATCH: [400, 'SIZE_INVALID'],
  SIZE_INVALID: [400, 'SIZE_INVALID'],
  NAME_INVALID: [400, 'NAME_INVALID'],
  MANIFEST_INVALID: [400, 'MANIFEST_INVALID'],
};

/** toHttpError maps any thrown value to a RegistryHttpError; unknown failures become 500 INTERNAL. */
export function toHttpError(e: unknown): RegistryHttpError {
  if (e instanceof RegistryHttpError) return e;
  if (isAppError(e)) {
    const [status, code] = STATUS_OF[e.code] ?? [500, e.code];
    return new RegistryHttpError(status, code, e.message, { detail: e.detail });
  }
  return new RegistryHttpError(500, 'INTERNAL', 'internal server error', { detail: errorMessage(e) });
}

/** A detail larger than this is left out of the reply: an error never echoes a hostile body back. */
const MAX_DETAIL_BYTES = 2048;

/** safeDetail renders a detail as JSON text, or undefined when it cannot be (cycles, depth) or is too big. */
function safeDetail(detail: unknown): string | undefined {
  if (detail === undefined) return undefined;
  try {
    const text = JSON.stringify(detail);
    return text !== undefined && text.length <= MAX_DETAIL_BYTES ? text : undefined;
  } catch {
    return undefined;
  }
}

/** errorBody renders the spec's JSON envelope; it never throws, whatever the detail holds. */
export function errorBody(err: RegistryHttpError): string {
  const detail = safeDetail(err.detail);
  const head = JSON.stringify({ code: err.code, message: err.message });
  const entry = detail === undefined ? head : `${head.slice(0, -1)},"detail":${detail}}`;
  return `{"errors":[${entry}]}`;
}

/**
 * writeError sends an error response, unless headers are already out or the socket is gone (then
 * it cuts the connection). It never throws: it is the last thing between a failure and the process.
 */
export function writeError(res: ServerResponse, method: string, err: RegistryHttpError): void {
  try {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = errorBody(err);
    res.statusCode = err.status;
    for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(method === 'HEAD' ? undefined : body);
  } catch {
    res.destroy();
  }
}

export const blobUnknown = (digest: string): RegistryHttpError =>
  new RegistryHttpError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } });
export const manifestUnknown = (reference: string): RegistryHttpError =>
  new RegistryHttpError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { detail: { reference } });
export const nameUnknown = (name: string): RegistryHttpError =>
  new RegistryHttpError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
export const uploadUnknown = (id: string): RegistryHttpError =>
  new RegistryHttpError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { detail: { id } });
export const unsupported = (message: string): RegistryHttpError =>
  new RegistryHttpError(405, 'UNSUPPORTED', message);
export const badRequest = (code: ErrorCode, message: string, detail?: unknown): RegistryHttpError =>
  new RegistryHttpError(400, code, message, { detail });
