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
 * announced a store (server/announce.ts) and the host proves it is that registry: asked with a
 * fresh nonce, it answers with an HMAC under the secret only the record (mode 0600) and the
 * server hold. An id alone is never trusted.
 */
import { access, constants, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { RegistrySession } from '../registry/index.js';
import {
  announcedStores,
  CHALLENGE_HEADER,
  type LocalStore,
  newNonce,
  openLocalStore,
  PROOF_HEADER,
  proofMatches,
  REGISTRY_ID_HEADER,
  type StoreRecord,
} from '../server/index.js';
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

/** How long a challenge may take: the registry is on this machine. */
const CHALLENGE_TIMEOUT_MS = 3000;

/** challengeOnce asks `GET /v2/` with a nonce over one scheme; resolves the answer's headers, or undefined. */
function challengeOnce(
  scheme: 'http' | 'https',
  host: string,
  nonce: string,
): Promise<Record<string, string | string[] | undefined> | undefined> {
  return new Promise((resolve) => {
    const send = scheme === 'https' ? httpsRequest : httpRequest;
    // No certificate check: what proves the server is the HMAC, not its certificate.
    const req = send(`${scheme}://${host}/v2/`, {
      method: 'GET',
      headers: { [CHALLENGE_HEADER]: nonce },
      timeout: CHALLENGE_TIMEOUT_MS,
      rejectUnauthorized: false,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.headers);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** provenRecord returns the record whose secret `host` proves it holds, trying http then https. */
async function provenRecord(host: string, candidates: StoreRecord[]): Promise<StoreRecord | undefined> {
  for (const scheme of ['http', 'https'] as const) {
    const nonce = newNonce();
    const headers = await challengeOnce(scheme, host, nonce);
    if (headers === undefined) continue;
    const id = headers[REGISTRY_ID_HEADER];
    const proof = headers[PROOF_HEADER];
    const record = candidates.find((r) => proofMatches(r, nonce, id, proof));
    if (record !== undefined) return record;
  }
  return undefined;
}

/** storeModesOf: a store whose root only its owner may enter is written private (0600/0700) too. */
async function storeModesOf(root: string): Promise<{ private: boolean }> {
  const st = await stat(root);
  return { private: (st.mode & 0o077) === 0 };
}

/**
 * localStores maps each host that a registry on this machine serves, and whose store this process
 * may write, to a destination writing that store. Hosts no live record could be (another port, or
 * no records at all) cost no request; the others are challenged once. `session` is kept for the
 * callers' signature; the challenge does not need its credentials (it is answered before auth).
 */
export async function localStores(
  _session: RegistrySession,
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
      const record = await provenRecord(host, candidates);
      if (record === undefined) return;
      try {
        await access(join(record.root, 'blobs'), constants.W_OK);
        const store = openLocalStore(record.root, await storeModesOf(record.root));
        out.set(host, { destination: storeDestination(host, store), root: record.root });
      } catch {
        return;
      }
    }),
  );
  return out;
}
