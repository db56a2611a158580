/**
 * @module server/announce
 * A running registry tells clients on the same machine where its store is, so that
 * `container image upload` (and `image build --push`) can write into the store instead of sending
 * every byte through HTTP to a server that writes the same bytes to the same disk. TripleO's own
 * uploader did this from Stein on: it exported layers straight into image-serve's folder.
 *
 * A server writes `<dir>/<pid>-<id>.json` (`/run/overcloud/registry` by default: root's tmpfs, so a
 * reboot forgets it) and sends its id on every response as `Overcloud-Registry-Id`. A client trusts
 * a record only when the address it is about to push to answers with that id, so another machine's
 * registry on the same port, or a stale record, never matches.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export const REGISTRY_ID_HEADER = 'overcloud-registry-id';

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
  await writeFileAtomic(path, `${JSON.stringify(record)}\n`);
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
      if (typeof r.id !== 'string' || typeof r.pid !== 'number' || typeof r.root !== 'string') continue;
      const record = { id: r.id, pid: r.pid, root: r.root, listen: String(r.listen ?? '') };
      if (!liveOnly || isAlive(record.pid)) out.push({ path, record });
    } catch {
      // A record being replaced or half-removed: skip it.
    }
  }
  return out;
}
