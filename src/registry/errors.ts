/**
 * @module registry/errors
 * Turns registry responses and socket failures into AppErrors, and decides what is worth retrying.
 * The spec lets a 4xx body take any shape, so the HTTP status decides first and the body's
 * `{errors:[{code,message}]}` only refines the message.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
 */

import { AppError, type ErrorCode } from '../errors.js';
import { ERROR_BODY_MAX_BYTES, RETRY_AFTER_MAX_MS } from './options.js';
import type { Dispatcher } from './undici.js';

export interface Diagnostic {
  code: string;
  message?: string;
  detail?: unknown;
}

/** What a RegistryError says about the request that failed (also its `detail`, for --json). */
export interface RegistryErrorDetail {
  /** The HTTP status; absent when no response came (socket, TLS, time-out). */
  status?: number;
  method: string;
  /** Without its query string (upload URLs carry state tokens). */
  url: string;
  /** The registry's `{errors:[{code,message,detail}]}`, as sent. */
  diagnostics: Diagnostic[];
  /** Whether another attempt could succeed. */
  retryable: boolean;
  /** The wait the registry asked for (Retry-After), capped. */
  retryAfterMs?: number;
}

/**
 * RegistryError is a failed registry request: an AppError with a stable code (the spec's error
 * code when the registry sent one) whose fields say what was asked and what came back.
 */
export class RegistryError extends AppError {
  readonly status: number | undefined;
  readonly method: string;
  readonly url: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    fields: RegistryErrorDetail,
    opts: { cause?: unknown; hint?: string } = {},
  ) {
    super(code, message, { ...opts, detail: fields });
    this.name = 'RegistryError';
    this.status = fields.status;
    this.method = fields.method;
    this.url = fields.url;
    this.diagnostics = fields.diagnostics;
    this.retryable = fields.retryable;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

const SPEC_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
] as const satisfies readonly ErrorCode[];

/** isSpecCode: a distribution-spec error code, which is also one of ours. */
function isSpecCode(code: string): code is (typeof SPEC_CODES)[number] {
  return (SPEC_CODES as readonly string[]).includes(code);
}

/** Statuses a retry can fix: server trouble and rate limits (nginx 499 and Cloudflare 52x included). */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 499, 500, 502, 503, 504, 520, 522, 524]);

/** Socket-level failures that a new connection can fix. */
const RETRYABLE_NET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

const TLS_PLAIN_PEER = /wrong version number|packet length too long|unknown protocol|EPROTO/i;
const TLS_CERT_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * tokenExpired is the error of a streamed request whose token expired on the way: the body is
 * gone, so the caller's retry sends it again with the fresh token.
 */
export function tokenExpired(method: string, url: URL): RegistryError {
  return new RegistryError('UNAUTHORIZED', `${method} ${redact(url)}: token expired mid-transfer`, {
    status: 401,
    method,
    url: redact(url),
    diagnostics: [],
    retryable: true,
  });
}

/** isRetryable tells whether another attempt could succeed. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof RegistryError) return e.retryable;
  if (e instanceof AppError) return false;
  return netCode(e) !== undefined && RETRYABLE_NET_CODES.has(netCode(e) ?? '');
}

/** retryAfterOf returns the server's requested wait, if it sent one. */
export function retryAfterOf(e: unknown): number | undefined {
  return e instanceof RegistryError ? e.retryAfterMs : undefined;
}

/** netCode finds the socket error code (ECONNRESET, UND_ERR_SOCKET, …) along the cause chain. */
export function netCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = cur.cause;
  }
  return undefined;
}

function fullMessage(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    parts.push(cur.message);
    cur = cur.cause;
  }
  return parts.join(': ');
}

/** networkError wraps a socket or TLS failure, with a hint when the scheme looks wrong. */
export function networkError(e: unknown, method: string, url: URL): AppError {
  if (e instanceof AppError) return e;
  const code = netCode(e) ?? '';
  const msg = fullMessage(e);
  const host = url.host;
  const detail: RegistryErrorDetail = {
    method,
    url: redact(url),
    diagnostics: [],
    retryable: RETRYABLE_NET_CODES.has(code),
  };
  if (url.protocol === 'https:' && (TLS_PLAIN_PEER.test(msg) || code === 'EPROTO')) {
    return new RegistryError(
      'TLS_MISMATCH',
      `${host} does not speak TLS (${method} ${redact(url)}: ${msg})`,
      detail,
      {
        cause: e,
        hint: `the registry at ${host} answers plain HTTP: name it insecure (--insecure ${host}, or insecure = true in /etc/containers/registries.conf)`,
      },
    );
  }
  if (TLS_CERT_CODES.has(code)) {
    return new RegistryError('TLS_MISMATCH', `${host}: TLS certificate not trusted (${code})`, detail, {
      cause: e,
      hint: `install the registry's CA in the system trust store, or name it insecure (--insecure ${host}) to skip verification`,
    });
  }
  if (code.includes('TIMEOUT')) {
    return new RegistryError('TIMEOUT', `${method} ${redact(url)}: timed out (${code})`, detail, {
      cause: e,
    });
  }
  const hangUp = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
  return new RegistryError('REGISTRY_UNREACHABLE', `${method} ${redact(url)}: ${msg || code}`, detail, {
    cause: e,
    ...(hangUp && url.protocol === 'http:'
      ? {
          hint: `if ${host} speaks HTTPS, do not name it insecure: plain HTTP is used only for insecure registries`,
        }
      : {}),
  });
}

/** redact drops query strings (upload URLs carry state tokens; realms may carry secrets). */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** readCapped reads at most `max` bytes of a body and discards the rest. */
export async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    if (n < max) chunks.push(b.subarray(0, max - n));
    n += b.length;
  }
  return Buffer.concat(chunks);
}

function parseRetryAfter(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const secs = Number(v);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(v) - Date.now();
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), RETRY_AFTER_MAX_MS);
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** parseDiagnostics keeps the well-formed entries of an `{errors:[...]}` body (any other shape: none). */
export function parseDiagnostics(body: unknown): Diagnostic[] {
  if (typeof body !== 'object' || body === null || !('errors' in body) || !Array.isArray(body.errors))
    return [];
  return body.errors.flatMap((d: unknown): Diagnostic[] => {
    if (typeof d !== 'object' || d === null || !('code' in d) || typeof d.code !== 'string') return [];
    const message = 'message' in d && typeof d.message === 'string' ? d.message : undefined;
    const detail = 'detail' in d ? d.detail : undefined;
    return [
      {
        code: d.code,
        ...(message === undefined ? {} : { message }),
        ...(detail === undefined ? {} : { detail }),
      },
    ];
  });
}

/** errorFromResponse consumes the body (capped) and builds the error for an unexpected status. */
export async function errorFromResponse(
  method: string,
  url: URL,
  res: Dispatcher.ResponseData,
  what?: string,
): Promise<RegistryError> {
  const raw = method === 'HEAD' ? Buffer.alloc(0) : await readCapped(res.body, ERROR_BODY_MAX_BYTES);
  if (method === 'HEAD') await res.body.dump();
  const text = raw.toString('utf8');
  let diagnostics: Diagnostic[] = [];
  try {
    diagnostics = parseDiagnostics(JSON.parse(text));
  } catch {
    // Not JSON: proxies and load balancers answer with HTML; keep the first line for the message.
  }
  const status = res.statusCode;
  const retryAfterMs = parseRetryAfter(header(res, 'retry-after'));
  const detail: RegistryErrorDetail = {
    status,
    method,
    url: redact(url),
    diagnostics,
    retryable: RETRYABLE_STATUS.has(status),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  const first = diagnostics[0];
  let code: ErrorCode = 'REGISTRY_HTTP';
  if (status === 401) code = 'UNAUTHORIZED';
  else if (status === 403) code = 'DENIED';
  else if (status === 429) code = 'TOOMANYREQUESTS';
  if (first && isSpecCode(first.code)) code = first.code;
  const reason = first
    ? diagnostics.map((d) => `${d.code}: ${d.message ?? ''}`.trim()).join('; ')
    : text.split('\n')[0]?.slice(0, 200) || `HTTP ${status}`;
  const prefix = what ? `${what}: ` : '';
  let hint: string | undefined;
  if (url.protocol === 'http:' && status === 400 && /HTTPS server/i.test(text)) {
    code = 'TLS_MISMATCH';
    hint = `the registry at ${url.host} speaks HTTPS: do not name it insecure, or use its TLS port`;
  } else if (status === 401) {
    hint = `log in to ${url.host} (credentials are read from --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or ~/.docker/config.json)`;
  }
  return new RegistryError(code, `${prefix}${method} ${redact(url)}: HTTP ${status} ${reason}`, detail, {
    ...(hint ? { hint } : {}),
  });
}
