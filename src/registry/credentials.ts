/**
 * @module registry/credentials
 * Registry credentials from the files podman and docker write, searched in podman's order:
 * `--authfile`, `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.docker/config.json`.
 * https://github.com/containers/image/blob/main/docs/containers-auth.json.5.md
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** A lookup from registry host to credentials. */
export type CredentialStore = (host: string) => Credentials | undefined;

/** authFilePaths lists the files to search, first match wins. */
export function authFilePaths(authfile?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const paths: string[] = [];
  if (authfile) paths.push(authfile);
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(env.HOME || homedir(), '.docker', 'config.json'));
  return paths;
}

/** normalizeAuthKey maps `https://index.docker.io/v1/`, `host/`, `host/ns` to the bare host. */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//, '');
  k = k.split('/')[0] ?? k;
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  return k;
}

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

function parseAuthFile(path: string, explicit: boolean): Map<string, Credentials> {
  const out = new Map<string, Credentials>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    // Only the file the user named must exist; the default places are optional.
    if (explicit) throw new AppError('FILE_NOT_FOUND', `auth file ${path} cannot be read`, { cause: e });
    return out;
  }
  let parsed: AuthFile;
  try {
    parsed = JSON.parse(text) as AuthFile;
  } catch (e) {
    throw new AppError('USAGE', `auth file ${path} is not valid JSON`, { cause: e });
  }
  for (const [key, entry] of Object.entries(parsed.auths ?? {})) {
    let creds: Credentials | undefined;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) creds = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (entry.username && entry.password) {
      creds = { username: entry.username, password: entry.password };
    }
    const host = normalizeAuthKey(key);
    if (creds && !out.has(host)) out.set(host, creds);
  }
  return out;
}

/** loadCredentials reads the auth files once and returns a lookup by host. */
export function loadCredentials(authfile?: string, env: NodeJS.ProcessEnv = process.env): CredentialStore {
  const files = authFilePaths(authfile, env).map((p) => parseAuthFile(p, p === authfile));
  return (host) => {
    const key = normalizeAuthKey(host);
    for (const f of files) {
      const c = f.get(key);
      if (c) return c;
    }
    return undefined;
  };
}
