/**
 * @module server/referrers
 * The referrers API: an OCI index of the manifests whose `subject` is the given digest, optionally
 * filtered by artifactType. Never 404: a subject nobody refers to has an empty list.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
 */
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/media-types.js';
import { type Exchange, type ServerContext, sendJson } from './context.js';

/** listReferrers answers GET /v2/<name>/referrers/<digest>[?artifactType=]. */
export async function listReferrers(
  ctx: ServerContext,
  ex: Exchange,
  name: string,
  subject: Digest,
): Promise<void> {
  const filter = ex.query.get('artifactType');
  let manifests = await ctx.store.listReferrers(name, subject);
  const headers: Record<string, string> = { 'content-type': MediaType.ociIndex };
  if (filter !== null) {
    manifests = manifests.filter((d) => d.artifactType === filter);
    headers['oci-filters-applied'] = 'artifactType';
  }
  sendJson(ex, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers);
}
