/**
 * @module server/tags
 * Content discovery: the tags list and the catalog, both paginated with `n`/`last` and `Link`.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#content-discovery
 */
import { type Exchange, type ServerContext, sendJson } from './context.js';
import { nameUnknown } from './errors.js';
import { linkHeader, paginate, parsePageParams } from './pagination.js';

/** listTags answers GET /v2/<name>/tags/list. */
export async function listTags(ctx: ServerContext, ex: Exchange, name: string): Promise<void> {
  const { n, last } = parsePageParams(ex.query);
  const tags = await ctx.store.listTags(name);
  if (tags === undefined) throw nameUnknown(name);
  const page = paginate(tags, n, last);
  const headers: Record<string, string> = {};
  if (page.next !== undefined && n !== undefined)
    headers.link = linkHeader(`/v2/${name}/tags/list`, n, page.next);
  sendJson(ex, 200, { name, tags: page.items }, headers);
}

/** listCatalog answers GET /v2/_catalog. */
export async function listCatalog(ctx: ServerContext, ex: Exchange): Promise<void> {
  const { n, last } = parsePageParams(ex.query);
  const page = paginate(await ctx.store.listRepositories(), n, last);
  const headers: Record<string, string> = {};
  if (page.next !== undefined && n !== undefined) headers.link = linkHeader('/v2/_catalog', n, page.next);
  sendJson(ex, 200, { repositories: page.items }, headers);
}
