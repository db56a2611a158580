/**
 * @module deploy/record
 * Where a stack's local files live, and the record of its last deploy: only the node list, so that
 * `overcloud container list` can find the nodes by itself. Container state is never stored here; it is
 * read from the nodes' labels.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Inventory } from './inventory.js';

/** stateDir is --state-dir, else $OVERCLOUD_STATE_DIR/<stack>, else ~/.overcloud/<stack>. */
export function stateDir(stack: string, explicit?: string): string {
  if (explicit) return explicit;
  return join(process.env.OVERCLOUD_STATE_DIR ?? join(homedir(), '.overcloud'), stack);
}

export const passwordsFile = (dir: string): string => join(dir, 'passwords.yaml');
const recordFile = (dir: string): string => join(dir, 'last-deploy.json');

export interface DeployRecord {
  stack: string;
  finishedAt: string;
  ok: boolean;
  inventory: Inventory;
}

export async function saveRecord(dir: string, record: DeployRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(recordFile(dir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export async function loadRecord(dir: string): Promise<DeployRecord> {
  try {
    return JSON.parse(await readFile(recordFile(dir), 'utf8')) as DeployRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('FILE_NOT_FOUND', `no deploy recorded in ${dir}`, {
        hint: 'run overcloud deploy first, or pass --stack/--state-dir',
      });
    }
    throw e;
  }
}

const removedFile = (dir: string): string => join(dir, 'removed-nodes.json');

/** A node taken out of the stack by `overcloud node delete` (TripleO's removal policy). */
export interface RemovedNode {
  name: string;
  role: string;
  removedAt: string;
}

/** loadRemoved lists the nodes `node delete` took out of the stack (none when never used). */
export async function loadRemoved(dir: string): Promise<RemovedNode[]> {
  try {
    return JSON.parse(await readFile(removedFile(dir), 'utf8')) as RemovedNode[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** saveRemoved adds nodes to the stack's removal list (kept 0600 beside the record). */
export async function saveRemoved(dir: string, added: RemovedNode[]): Promise<void> {
  const names = new Set(added.map((n) => n.name));
  const list = [...(await loadRemoved(dir)).filter((n) => !names.has(n.name)), ...added];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(removedFile(dir), `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
}
