/**
 * @module upload/store-destination
 * Uploading into a registry that runs on this machine by writing its store in place, the way
 * TripleO's Stein+ uploader exported layers straight into image-serve's folder. Over HTTP each
 * byte would go source -> client -> server -> the same disk, hashed twice; here it goes source ->
 * client -> disk, hashed once by the source stream's own check. Everything else keeps the
 * server's rules: blobs become visible by one rename of a complete, verified file, a repository
 * sees a blob only through its link, and manifests go through the server's own acceptManifest
 * (checked, every referenced blob linked first), so the running server serves the result at once.
 *
 * localStores finds such registries: a host is written directly only when a live registry
 * announced a store (server/announce.ts) and the host, asked over HTTP, answers with that
 * registry's id.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { RegistrySession } from '../registry/index.js';
import { announcedStores, type LocalStore, openLocalStore, REGISTRY_ID_HEADER } from '../server/index.js';
import type { Destination } from './destination.js';

/** storeDestination writes into a local store, which the registry at `host` serves. */
export function storeDestination(host: string, store: LocalStore): Destination {
  return {
    host,
    headManifest: (repo, reference) => store.headManifest(repo, reference),
    blobExists: (repo, desc) => store.blobExists(repo, desc),
    pushBlob: (repo, desc, body) => store.writeBlob(repo, desc, body),
    mountBlob: (repo, digest, from) => store.mountBlob(repo, digest, from),
    async putManifest(repo, reference, raw) {
      const digest = await store.putManifest(repo, reference, raw.bytes, raw.mediaType);
      if (digest !== raw.digest) {
        throw new AppError('DIGEST_MISMATCH', `manifest ${raw.digest} was stored as ${digest}`);
      }
    },
  };
}

/** The port a `host[:port]` names, or undefined when it names none. */
function portOf(host: string): number | undefined {
  const m = /:(\d{1,5})$/.exec(host);
  return m ? Number(m[1]) : undefined;
}

/**
 * localStores maps each host that a registry on this machine serves, and whose store this process
 * may write, to a destination writing that store. Hosts no live record could be (another port, or
 * no records at all) cost no request; the others are asked once for their id.
 */
export async function localStores(
  session: RegistrySession,
  hosts: Iterable<string>,
): Promise<Map<string, { destination: Destination; root: string }>> {
  const out = new Map<string, { destination: Destination; root: string }>();
  const records = await announcedStores();
  if (records.length === 0) return out;
  await Promise.all(
    [...new Set(hosts)].map(async (host) => {
      const port = portOf(host);
      const candidates = records.filter((r) => portOf(r.listen) === port);
      if (port === undefined || candidates.length === 0) return;
      const headers = await session
        .client(host)
        .ping()
        .catch(() => undefined);
      const id = headers?.[REGISTRY_ID_HEADER];
      const record = candidates.find((r) => r.id === id);
      if (record === undefined) return;
      try {
        await access(join(record.root, 'blobs'), constants.W_OK);
      } catch {
        return;
      }
      out.set(host, { destination: storeDestination(host, openLocalStore(record.root)), root: record.root });
    }),
  );
  return out;
}
