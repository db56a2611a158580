/**
 * @module deploy/known-stacks
 * Stacks registered on this machine by the tool that made them (the quickstart registers its lab's
 * stack), so that `overcloud container list`, `logs`, `validate` and `debug print-cmd` find a stack
 * without flags, and know the network namespace its nodes are reachable from. One small JSON file
 * per stack in `$OVERCLOUD_STACKS_DIR` (default /var/lib/overcloud/stacks). The lookup order:
 * --state-dir; else the stack's own folder (~/.overcloud/<stack>) when it holds a deploy; else the
 * one registered stack; several: an error listing them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { stateDir } from './record.js';

export interface KnownStack {
  /** What registered it and under which name (the quickstart: its lab name). */
  id: string;
  stack: string;
  /** The stack's state folder (passwords, last-deploy.json, overcloudrc). */
  stateDir: string;
  /** The network namespace (a /run/netns path) from which its nodes and APIs are reachable. */
  netns?: string;
  /** What the user reads in the listing, e.g. "quickstart config/containers_minimal.yml". */
  description: string;
}

/** Where a stack stands, as the commands use it. */
export interface StackTarget {
  stateDir: string;
  netns?: string;
}

/** knownStacksDir is $OVERCLOUD_STACKS_DIR, else /var/lib/overcloud/stacks. */
export function knownStacksDir(): string {
  return process.env.OVERCLOUD_STACKS_DIR ?? '/var/lib/overcloud/stacks';
}

const entryFile = (id: string): string => join(knownStacksDir(), `${id}.json`);

/** registerStack records (or replaces) a stack under its id. */
export async function registerStack(entry: KnownStack): Promise<void> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(entry.id))
    throw new AppError('INTERNAL', `stack id "${entry.id}" is not a file name`);
  await mkdir(knownStacksDir(), { recursive: true, mode: 0o755 });
  await writeFileAtomic(entryFile(entry.id), `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o644 });
}

/** unregisterStack forgets a stack (teardown). */
export async function unregisterStack(id: string): Promise<void> {
  await rm(entryFile(id), { force: true });
}

/** knownStacks lists the registered stacks that still hold a deploy record, by id. */
export async function knownStacks(): Promise<KnownStack[]> {
  const names = await readdir(knownStacksDir()).catch(() => [] as string[]);
  const out: KnownStack[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    try {
      const e = JSON.parse(await readFile(join(knownStacksDir(), name), 'utf8')) as KnownStack;
      if (typeof e.stateDir === 'string' && existsSync(join(e.stateDir, 'last-deploy.json'))) out.push(e);
    } catch {
      // a half-written or foreign file is not a stack
    }
  }
  return out;
}

/**
 * resolveStack finds the stack a command without --state-dir means, and with --state-dir the
 * namespace of the registered stack that lives there (if any).
 */
export async function resolveStack(stack: string, explicitDir?: string): Promise<StackTarget> {
  const known = await knownStacks();
  const withNs = (dir: string): StackTarget => {
    const hit = known.find((k) => resolve(k.stateDir) === resolve(dir));
    return hit?.netns === undefined ? { stateDir: dir } : { stateDir: dir, netns: hit.netns };
  };
  if (explicitDir) return withNs(explicitDir);
  const own = stateDir(stack);
  if (existsSync(join(own, 'last-deploy.json'))) return withNs(own);
  const candidates = known.filter((k) => k.stack === stack);
  const [only] = candidates;
  if (only && candidates.length === 1) return withNs(only.stateDir);
  if (candidates.length > 1) {
    throw new AppError(
      'USAGE',
      `no deploy recorded in ${own}, and ${candidates.length} stacks named ${stack} are registered on this machine:\n${candidates
        .map((k) => `  --state-dir ${k.stateDir}    # ${k.description}`)
        .join('\n')}`,
      { hint: 'pick one with its --state-dir' },
    );
  }
  return { stateDir: own };
}
