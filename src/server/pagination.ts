/**
 * @module server/pagination
 * The `n`/`last` pagination shared by the tags list and the catalog, with its `Link` header. Pure.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
 */
import { badRequest } from './errors.js';

export interface Page {
  items: string[];
  /** The value for the next page's `last`, when more items follow. */
  next: string | undefined;
}

/** parsePageParams reads `n` (a non-negative integer) and `last` from a query string. */
export function parsePageParams(query: URLSearchParams): { n: number | undefined; last: string | undefined } {
  const rawN = query.get('n');
  let n: number | undefined;
  if (rawN !== null && rawN !== '') {
    if (!/^\d+$/.test(rawN)) throw badRequest('UNSUPPORTED', 'n must be a non-negative integer', { n: rawN });
    n = Number(rawN);
  }
  const last = query.get('last') ?? undefined;
  return { n, last: last === '' ? undefined : last };
}

/** paginate returns the items strictly after `last` (lexical order), at most `n` of them. */
export function paginate(sorted: readonly string[], n: number | undefined, last: string | undefined): Page {
  const after = last === undefined ? sorted : sorted.filter((s) => s > last);
  if (n === undefined || n >= after.length) return { items: [...after], next: undefined };
  const items = after.slice(0, n);
  return { items, next: n > 0 ? items[items.length - 1] : undefined };
}

/** linkHeader renders `</path?n=N&last=L>; rel="next"`. */
export function linkHeader(path: string, n: number, last: string): string {
  const q = new URLSearchParams({ n: String(n), last });
  return `<${path}?${q.toString()}>; rel="next"`;
}
