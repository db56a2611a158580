/**
 * @module registry/http
 * One registry's HTTP exchange: scheme, auth (challenge on 401, once per attempt), redirects for
 * GET/HEAD, retries for replayable requests, and one place that turns a bad status into an error.
 * Requests with a streamed body are sent once; their callers retry the whole operation.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { Authenticator } from './auth.js';
import type { Credentials } from './credentials.js';
import { errorFromResponse, networkError, readCapped, tokenExpired } from './errors.js';
import { DEFAULT_RETRY, type RetryOptions, USER_AGENT } from './options.js';
import { withRetry } from './retry.js';
import { Transport } from './transport.js';
import { type Dispatcher, request } from './undici.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: Method;
  /** A path (`/v2/...`) or an absolute URL (upload locations). */
  url: string | URL;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  /** Token scopes this request needs. */
  scope: string[];
  /** Statuses that mean success; anything else becomes an error. */
  ok: number[];
  /** Context for messages, e.g. "pushing blob sha256:… to repo". */
  what?: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  url: URL;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** header reads a single response header value. */
export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** RegistryHttp sends requests to one registry host. */
export class RegistryHttp {
  readonly auth: Authenticator;

  constructor(
    readonly host: string,
    private readonly transport: Transport,
    creds: Credentials | undefined,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {
    this.auth = new Authenticator(host, creds, (url, headers) => this.tokenGet(url, headers));
  }

  /** baseUrl resolves the scheme (probing insecure registries once). */
  async baseUrl(): Promise<string> {
    return Transport.baseUrl(this.host, await this.transport.scheme(this.host));
  }

  /** send performs the request; replayable ones are retried with back-off. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || typeof req.body === 'string' || Buffer.isBuffer(req.body);
    if (!replayable) return this.once(req);
    return withRetry(this.retry, () => this.once(req));
  }

  /** once sends one attempt, answering one auth challenge and following GET/HEAD redirects. */
  private async once(req: HttpRequest): Promise<HttpResponse> {
    const scheme = await this.transport.scheme(this.host);
    const dispatcher = this.transport.dispatcher(scheme);
    let url = typeof req.url === 'string' ? new URL(req.url, Transport.baseUrl(this.host, scheme)) : req.url;
    const replayable = req.body === undefined || typeof req.body === 'string' || Buffer.isBuffer(req.body);
    let challenged = false;
    for (let hops = 0; hops < 6; hops++) {
      const sameHost = url.host === new URL(Transport.baseUrl(this.host, scheme)).host;
      const authz = sameHost ? await this.auth.authorization(req.scope) : undefined;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
      if (authz) headers.authorization = authz;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, {
          method: req.method,
          headers,
          body: req.body ?? null,
          dispatcher,
          // undici closes the connection after every HEAD unless told otherwise (in case a server
          // sends a body anyway, undici#258). Registries answer HEAD properly, and an upload asks
          // a HEAD per tag and per blob: each on a new connection cost the registry (and the run)
          // hundreds of connects and closes, about a tenth of the run against distribution.
          ...(req.method === 'HEAD' ? { reset: false } : {}),
        });
      } catch (e) {
        throw networkError(e, req.method, url);
      }
      const status = res.statusCode;
      if (status === 401 && sameHost && !challenged) {
        await res.body.dump();
        challenged = true;
        await this.auth.challenge(header(res.headers, 'www-authenticate'), req.scope);
        if (replayable) continue;
        // The streamed body is gone; the caller's retry sends it again with the fresh token.
        throw tokenExpired(req.method, url);
      }
      if (REDIRECTS.has(status) && (req.method === 'GET' || req.method === 'HEAD')) {
        const loc = header(res.headers, 'location');
        await res.body.dump();
        if (!loc) throw new AppError('REGISTRY_HTTP', `${req.method} ${url}: redirect without Location`);
        url = new URL(loc, url);
        continue;
      }
      if (req.ok.includes(status)) return { status, headers: res.headers, body: res.body, url };
      throw await errorFromResponse(req.method, url, res, req.what);
    }
    throw new AppError('REGISTRY_HTTP', `${req.method} ${url}: too many redirects`);
  }

  private async tokenGet(
    url: URL,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    // The realm is often another host; verify its TLS unless this registry is insecure.
    const scheme =
      url.protocol === 'http:' ? 'http' : this.transport.isInsecure(this.host) ? 'https-unverified' : 'https';
    return withRetry(this.retry, async () => {
      try {
        const res = await request(url, {
          method: 'GET',
          headers: { 'user-agent': USER_AGENT, ...headers },
          dispatcher: this.transport.dispatcher(scheme),
        });
        if (res.statusCode >= 500 || res.statusCode === 429) throw await errorFromResponse('GET', url, res);
        const body = (await readCapped(res.body, 1024 * 1024)).toString('utf8');
        return { status: res.statusCode, body };
      } catch (e) {
        throw networkError(e, 'GET', url);
      }
    });
  }
}
