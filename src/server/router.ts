/**
 * @module server/router
 * Maps a request path to one of the spec's endpoints. Pure: no IO, unit-tested alone.
 * The repository name may itself contain slashes, so the endpoint is recognised by its suffix
 * (as distribution's regexps do), and the name is what is left before it.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
 */
import { badRequest } from './errors.js';

export type Route =
  | { kind: 'base' }
  | { kind: 'health' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'none' };

const PATTERNS: [RegExp, (m: RegExpExecArray) => Route][] = [
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: m[2]! })],
];

/**
 * parseRoute decodes the path once and finds the endpoint. Encoded slashes and backslashes are
 * refused outright: they are the classic way to smuggle a separator past a router.
 */
export function parseRoute(rawPath: string): Route {
  if (rawPath === '/healthz') return { kind: 'health' };
  if (/%2f|%5c|\\/i.test(rawPath)) throw badRequest('NAME_INVALID', 'encoded separators are not allowed');
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw badRequest('NAME_INVALID', 'malformed percent-encoding in path');
  }
  if (path === '/v2' || path === '/v2/') return { kind: 'base' };
  if (!path.startsWith('/v2/')) return { kind: 'none' };
  const rest = path.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [re, make] of PATTERNS) {
    const m = re.exec(rest);
    if (m) return make(m);
  }
  return { kind: 'none' };
}
