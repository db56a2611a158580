/**
 * @module server/announce
 * A running registry tells clients on the same machine where its store is, so that
 * `container image upload` (and `image build --push`) can write into the store instead of sending
 * every byte through HTTP to a server that writes the same bytes to the same disk. TripleO's own
 * uploader did this from Stein on: it exported layers straight into image-serve's folder.
 *
 * A server writes `<dir>/<pid>-<id>.json` (`/run/overcloud/registry` by default: root's tmpfs, so a
 * reboot forgets it), mode 0600, holding a random secret besides the store's folder. A client
 * trusts a record only when the address it is about to push to proves it holds that secret: the
 * client sends a fresh nonce in `Overcloud-Registry-Challenge`, the server answers with its id and
 * `Overcloud-Registry-Proof`, an HMAC-SHA256 of the nonce and id under the secret. The id alone is
 * never proof (anything can copy it), the secret never leaves the record and the process, and only
 * a reader of the record (its owner, or root) can check a proof. So another machine's registry on
 * the same port, a stale record, or a stranger replaying an id never matches.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export const REGISTRY_ID_HEADER = 'overcloud-registry-id';
export const CHALLENGE_HEADER = 'overcloud-registry-challenge';
export const PROOF_HEADER = 'overcloud-registry-proof';

/** A nonce a client may send: 32 to 128 hex digits. */
const NONCE_RE = /^[0-9a-f]{32,128}$/;

/** Where records live; `OVERCLOUD_REGISTRY_RUN_DIR` moves them (tests). */
export function recordsDir(): string {
  return process.env.OVERCLOUD_REGISTRY_RUN_DIR ?? '/run/overcloud/registry';
}

/** What a running registry says about itself. */
export interface StoreRecord {
  id: string;
  pid: number;
  /** The store's folder, absolute. */
  root: string;
  listen: string;
  /** hex; the key of the challenge's HMAC. */
  secret: string;
}

/** newRegistrySecret is the key a server proves itself with; one per start. */
export const newRegistrySecret = (): string => randomBytes(32).toString('hex');

/** registryProof is the answer to a challenge: HMAC-SHA256(secret, nonce ":" id), hex. */
export function registryProof(secret: string, nonce: string, id: string): string {
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(`${nonce}:${id}`).digest('hex');
}

/** isNonce tells a well-formed challenge from anything else a client might send in the header. */
export const isNonce = (value: string | string[] | undefined): value is string =>
  typeof value === 'string' && NONCE_RE.test(value);

/** newNonce makes a fresh challenge. */
export const newNonce = (): string => randomBytes(32).toString('hex');

/** proofMatches checks a server's answer to `nonce` against a record, in constant time. */
export function proofMatches(record: StoreRecord, nonce: string, id: unknown, proof: unknown): boolean {
  if (typeof id !== 'string' || typeof proof !== 'string' || id !== record.id) return false;
  const want = Buffer.from(registryProof(record.secret, nonce, record.id), 'hex');
  const got = Buffer.from(proof, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive, someone else's.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** newRegistryId is the id a server sends; one per start. */
export const newRegistryId = (): string => randomUUID();

/**
 * announce writes the record and returns its remover. Records of dead processes (a server that was
 * killed) are removed on the way.
 */
export async function announce(record: StoreRecord): Promise<() => Promise<void>> {
  const dir = recordsDir();
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const stale of await readRecords(dir, false)) {
    if (!isAlive(stale.record.pid)) await rm(stale.path, { force: true });
  }
  const path = join(dir, `${record.pid}-${record.id}.json`);
  await writeFileAtomic(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return () => rm(path, { force: true });
}

/** announcedStores lists the records of live registries on this machine (none: an empty list). */
export async function announcedStores(): Promise<StoreRecord[]> {
  return (await readRecords(recordsDir(), true)).map((r) => r.record);
}

async function readRecords(dir: string, liveOnly: boolean): Promise<{ path: string; record: StoreRecord }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: { path: string; record: StoreRecord }[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      const r = JSON.parse(await readFile(path, 'utf8')) as Partial<StoreRecord>;
      if (
        typeof r.id !== 'string' ||
        typeof r.pid !== 'number' ||
        typeof r.root !== 'string' ||
        typeof r.secret !== 'string'
      )
        continue;
      const record = { id: r.id, pid: r.pid, root: r.root, listen: String(r.listen ?? ''), secret: r.secret };
      if (!liveOnly || isAlive(record.pid)) out.push({ path, record });
    } catch {
      // A record being replaced or half-removed: skip it.
    }
  }
  return out;
}
