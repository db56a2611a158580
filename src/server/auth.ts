/**
 * @module server/auth
 * HTTP Basic authentication against an htpasswd file of bcrypt hashes (as `htpasswd -B` writes,
 * the same file distribution's htpasswd auth reads).
 *
 * bcrypt is deliberately slow (tens of ms in JavaScript), so:
 * - checks run on a worker thread (./bcrypt-worker.ts), never on the event loop;
 * - a verified credential is remembered, keyed by a hash of the header, never the password itself,
 *   so a client that logged in once costs a map lookup;
 * - a client (by address) that failed FREE_FAILURES times within the window is answered 429 without
 *   any check until the window ends, and only after THROTTLE_DELAY_MS: a flood of bad logins then
 *   costs almost nothing, and a client that waits for its answers (most do) slows to a trickle;
 * - an unknown user is compared against a dummy hash of the same cost, so response times do not
 *   tell which user names exist.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AppError } from '../errors.js';
import { BcryptWorker } from './bcrypt-worker.js';
import { RegistryHttpError } from './errors.js';

const CACHE_LIMIT = 1000;
/** Failed logins a client may make per window before it is throttled. */
export const FREE_FAILURES = 5;
export const FAILURE_WINDOW_MS = 60_000;
/** How long a throttled client waits for its 429. */
export const THROTTLE_DELAY_MS = 1000;
/** Clients tracked at most; past this the oldest are forgotten. */
const TRACKED_CLIENTS = 10_000;
/** Checks waiting on the worker at most; past this a login is answered 429 rather than queued. */
const MAX_PENDING_CHECKS = 64;

/** parseHtpasswd reads `user:$2y$...` lines; other hash schemes are refused so nothing is silently open. */
export function parseHtpasswd(text: string, path = 'htpasswd'): Map<string, string> {
  const users = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash)) {
      throw new AppError('USAGE', `${path}:${i + 1}: not a bcrypt entry (create it with htpasswd -B)`);
    }
    users.set(line.slice(0, colon), hash);
  }
  return users;
}

/**
 * isEmptyBasic spots `Basic Og==` (an empty user and password): containers/image sends it when it
 * meets a Basic challenge without credentials, meaning "anonymous".
 */
export function isEmptyBasic(authorization: string): boolean {
  return (
    /^basic /i.test(authorization) && Buffer.from(authorization.slice(6).trim(), 'base64').toString() === ':'
  );
}

/** The cost (log2 rounds) of a bcrypt hash. */
const costOf = (hash: string): number => Number(hash.slice(4, 6));

const throttled = (retryAfterS: number): RegistryHttpError =>
  new RegistryHttpError(429, 'TOOMANYREQUESTS', 'too many failed logins from this client; retry later', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) },
  });

/** BasicAuth checks Authorization headers. */
export class BasicAuth {
  private readonly verified = new Map<string, string>();
  private readonly failures = new Map<string, { count: number; since: number }>();
  /** Checks running per client: they count against its budget before they fail, or a burst of
   * concurrent bad logins would all get a full check. */
  private readonly checking = new Map<string, number>();
  /** Checks running, by header hash. */
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  private readonly worker = new BcryptWorker();
  private dummy: Promise<string> | undefined;

  constructor(private readonly users: Map<string, string>) {}

  static async load(path: string): Promise<BasicAuth> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new AppError('FILE_NOT_FOUND', `cannot read htpasswd file ${path}`, { cause: e });
    }
    const auth = new BasicAuth(parseHtpasswd(text, path));
    // Made now, so that the first unknown user does not wait for it (a timing difference too).
    await auth.dummyHash();
    return auth;
  }

  /** The hash an unknown user is compared against: random, at the highest cost in the file. */
  private dummyHash(): Promise<string> {
    if (this.dummy === undefined) {
      const cost = Math.max(10, ...[...this.users.values()].map(costOf));
      this.dummy = this.worker.hash(randomBytes(16).toString('hex'), cost);
    }
    return this.dummy;
  }

  /**
   * verify returns the user name for a valid `Basic` header, or undefined. `client` (the remote
   * address) is what failures are counted by; a throttled client gets a 429 error.
   */
  async verify(authorization: string | undefined, client = ''): Promise<string | undefined> {
    if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
    const key = createHash('sha256').update(authorization).digest('hex');
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    // Requests with the same credentials arriving together (a client opening several connections
    // at its first login) share one check.
    const running = this.inflight.get(key);
    if (running !== undefined) return running;
    const wait = this.throttledFor(client);
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, THROTTLE_DELAY_MS));
      throw throttled(wait / 1000);
    }
    if (this.worker.pending >= MAX_PENDING_CHECKS) throw throttled(1);
    const check = this.check(authorization, key, client);
    this.inflight.set(key, check);
    try {
      return await check;
    } finally {
      this.inflight.delete(key);
    }
  }

  /** check runs one bcrypt comparison for a header, counting it against the client while it runs. */
  private async check(authorization: string, key: string, client: string): Promise<string | undefined> {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const hash = this.users.get(user);
    this.checking.set(client, (this.checking.get(client) ?? 0) + 1);
    let ok: boolean;
    try {
      // Always one full check, known user or not, so timing says nothing about who exists.
      ok = (await this.worker.compare(password, hash ?? (await this.dummyHash()))) && hash !== undefined;
    } finally {
      const n = (this.checking.get(client) ?? 1) - 1;
      if (n <= 0) this.checking.delete(client);
      else this.checking.set(client, n);
    }
    if (!ok || colon < 0) {
      this.recordFailure(client);
      return undefined;
    }
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(key, user);
    return user;
  }

  /** throttledFor is how long (ms) a client that used up its failures must still wait; 0: not throttled. */
  private throttledFor(client: string): number {
    const running = this.checking.get(client) ?? 0;
    const f = this.failures.get(client);
    let left = f === undefined ? 0 : f.since + FAILURE_WINDOW_MS - Date.now();
    if (f !== undefined && left <= 0) {
      this.failures.delete(client);
      left = 0;
    }
    const used = (left > 0 ? (f?.count ?? 0) : 0) + running;
    if (used < FREE_FAILURES) return 0;
    // Throttled by checks still running: retry once they are likely done.
    return left > 0 ? left : 1000;
  }

  private recordFailure(client: string): void {
    const now = Date.now();
    const f = this.failures.get(client);
    if (f !== undefined && now - f.since < FAILURE_WINDOW_MS) {
      f.count++;
      return;
    }
    if (this.failures.size >= TRACKED_CLIENTS) {
      for (const [k, v] of this.failures) if (now - v.since >= FAILURE_WINDOW_MS) this.failures.delete(k);
      if (this.failures.size >= TRACKED_CLIENTS) this.failures.delete(this.failures.keys().next().value!);
    }
    this.failures.set(client, { count: 1, since: now });
  }

  /** close stops the worker thread. */
  close(): Promise<void> {
    return this.worker.close();
  }
}
