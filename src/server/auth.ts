/**
 * @module server/auth
 * HTTP Basic authentication against an htpasswd file of bcrypt hashes (as `htpasswd -B` writes,
 * the same file distribution's htpasswd auth reads). bcrypt is deliberately slow (tens of ms in
 * JavaScript), so a verified credential is remembered, keyed by a hash of the header, never the
 * password itself.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { AppError } from '../errors.js';

const CACHE_LIMIT = 1000;

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

/** BasicAuth checks Authorization headers. */
export class BasicAuth {
  private readonly verified = new Map<string, string>();

  constructor(private readonly users: Map<string, string>) {}

  static async load(path: string): Promise<BasicAuth> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new AppError('FILE_NOT_FOUND', `cannot read htpasswd file ${path}`, { cause: e });
    }
    return new BasicAuth(parseHtpasswd(text, path));
  }

  /** verify returns the user name for a valid `Basic` header, or undefined. */
  async verify(authorization: string | undefined): Promise<string | undefined> {
    if (authorization === undefined || !/^basic /i.test(authorization)) return undefined;
    const key = createHash('sha256').update(authorization).digest('hex');
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const hash = this.users.get(user);
    if (hash === undefined || !(await bcrypt.compare(decoded.slice(colon + 1), hash))) return undefined;
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(key, user);
    return user;
  }
}
