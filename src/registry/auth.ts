/**
 * @module registry/auth
 * The `WWW-Authenticate` challenge flow: learn the scheme from the first 401, then send Basic
 * credentials or a Bearer token fetched from the realm for the request's scope. Tokens are cached
 * per scope until shortly before they expire, and refreshed when a 401 arrives mid-run.
 * https://distribution.github.io/distribution/spec/auth/token/
 */
import { AppError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { TOKEN_DEFAULT_TTL_S } from './options.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** parseChallenge reads `Bearer realm="…",service="…",scope="…"` (and Basic). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2] ?? ''); p; p = re.exec(m[2] ?? '')) {
    if (p[1]) params[p[1].toLowerCase()] = p[2] ?? p[3] ?? '';
  }
  return { scheme: m[1].toLowerCase(), params };
}

/** A token endpoint call, injected so the caller decides TLS and time-outs. */
export type TokenFetcher = (
  url: URL,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

interface Token {
  value: string;
  expiresAt: number;
}

/** Scope strings as the token spec spells them. */
export const pullScope = (repo: string): string => `repository:${repo}:pull`;
export const pushScope = (repo: string): string => `repository:${repo}:pull,push`;
export const CATALOG_SCOPE = 'registry:catalog:*';

/** Authenticator holds one registry's auth state. */
export class Authenticator {
  private kind: 'unknown' | 'none' | 'basic' | 'bearer' = 'unknown';
  private realm: URL | undefined;
  private service: string | undefined;
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();

  constructor(
    readonly host: string,
    private readonly creds: Credentials | undefined,
    private readonly fetchToken: TokenFetcher,
    private readonly now: () => number = Date.now,
  ) {}

  /** authorization returns the header for a request with this scope (fetching a token if needed). */
  async authorization(scope: string[]): Promise<string | undefined> {
    if (this.kind === 'basic' && this.creds) return basic(this.creds);
    if (this.kind !== 'bearer') return undefined;
    const key = scope.join(' ');
    const t = this.tokens.get(key);
    if (t && t.expiresAt > this.now()) return `Bearer ${t.value}`;
    return `Bearer ${(await this.token(scope)).value}`;
  }

  /** challenge handles a 401: learns the scheme and, for Bearer, fetches a fresh token. */
  async challenge(header: string | undefined, scope: string[]): Promise<void> {
    const c = parseChallenge(header);
    if (!c) {
      throw new AppError('UNAUTHORIZED', `${this.host} refused the request (401) without a challenge`);
    }
    if (c.scheme === 'basic') {
      if (!this.creds) {
        throw new AppError('UNAUTHORIZED', `${this.host} requires a login (Basic auth)`, {
          hint: `add credentials for ${this.host} to an auth file (podman login ${this.host}, or --authfile)`,
        });
      }
      if (this.kind === 'basic') {
        throw new AppError('UNAUTHORIZED', `${this.host} rejected the credentials for its Basic login`, {
          hint: `check the credentials for ${this.host} in the auth file`,
        });
      }
      this.kind = 'basic';
      return;
    }
    if (c.scheme !== 'bearer' || !c.params.realm) {
      throw new AppError('UNAUTHORIZED', `${this.host} asks for unsupported auth "${header}"`);
    }
    this.kind = 'bearer';
    try {
      this.realm = new URL(c.params.realm);
    } catch {
      throw new AppError('UNAUTHORIZED', `${this.host} named an invalid token realm "${c.params.realm}"`);
    }
    this.service = c.params.service;
    // The token we sent (if any) is stale or too narrow: drop it and fetch again.
    this.tokens.delete(scope.join(' '));
    await this.token(scope);
  }

  private token(scope: string[]): Promise<Token> {
    const key = scope.join(' ');
    let p = this.pending.get(key);
    if (!p) {
      // Coalesce: many parallel requests for one scope share one token request.
      p = this.requestToken(scope).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async requestToken(scope: string[]): Promise<Token> {
    const realm = this.realm;
    if (!realm) throw new AppError('INTERNAL', 'bearer token requested before a challenge');
    const url = new URL(realm);
    if (this.service) url.searchParams.set('service', this.service);
    for (const s of scope) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.creds) headers.authorization = basic(this.creds);
    const res = await this.fetchToken(url, headers);
    if (res.status !== 200) {
      throw new AppError(
        'UNAUTHORIZED',
        `token server ${realm.host} refused a token for ${scope.join(' ')} (HTTP ${res.status})`,
        {
          hint: this.creds
            ? `check the credentials for ${this.host}`
            : `log in to ${this.host} (podman login, or --authfile)`,
        },
      );
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      throw new AppError('UNAUTHORIZED', `token server ${realm.host} answered with invalid JSON`);
    }
    const value = parsed.token ?? parsed.access_token;
    if (!value) throw new AppError('UNAUTHORIZED', `token server ${realm.host} answered without a token`);
    const ttl = typeof parsed.expires_in === 'number' ? parsed.expires_in : TOKEN_DEFAULT_TTL_S;
    // Refresh 10 s early (or at half-life for short tokens) so a token does not expire in flight.
    const t: Token = { value, expiresAt: this.now() + Math.max(ttl - 10, ttl / 2) * 1000 };
    this.tokens.set(scope.join(' '), t);
    return t;
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
