/**
 * @module image-build/apt
 * The package snapshot a build installs from. The host's apt (with its configured mirror and
 * suites, security included) refreshes a private set of lists under the cache folder; every image
 * RUN mounts those same lists, so one run installs from one consistent snapshot, and the hash of
 * their InRelease files tells whether the mirror has changed since the last run.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { isProcessError, mustRun } from '../process/index.js';

export interface AptSnapshot {
  listsDir: string;
  /** sha256 over the InRelease files (names and bytes) */
  hash: string;
}

/** aptOptions points apt at a private lists and cache folder under `root`. */
export function aptOptions(root: string): string[] {
  return [
    '-o',
    `Dir::State::Lists=${join(root, 'lists')}`,
    '-o',
    `Dir::Cache=${join(root, 'cache')}`,
    '-o',
    'Dir::Cache::pkgcache=',
    '-o',
    'Dir::Cache::srcpkgcache=',
  ];
}

/** snapshotHash hashes the InRelease (or Release) files of a lists folder. */
export async function snapshotHash(listsDir: string): Promise<string> {
  const names = (await readdir(listsDir)).filter((n) => /_(In)?Release$/.test(n)).sort();
  if (names.length === 0) {
    throw new AppError(
      'COMMAND_FAILED',
      `${listsDir} holds no InRelease file: apt-get update fetched nothing`,
    );
  }
  const h = createHash('sha256');
  for (const n of names) h.update(`${n}\0`).update(await readFile(join(listsDir, n)));
  return h.digest('hex');
}

/** refreshSnapshot runs `apt-get update` into `root` (the host's sources, a private lists folder). */
export async function refreshSnapshot(root: string): Promise<AptSnapshot> {
  const listsDir = join(root, 'lists');
  await mkdir(join(listsDir, 'partial'), { recursive: true });
  await mkdir(join(root, 'cache', 'archives', 'partial'), { recursive: true });
  try {
    await mustRun(['apt-get', '-q', ...aptOptions(root), '--error-on=any', 'update'], {
      timeoutMs: 300_000,
      timeoutSignal: 'SIGTERM',
    });
  } catch (e) {
    const output = isProcessError(e) ? `${e.result.stdout}\n${e.result.stderr}` : '';
    const lines = output.split('\n').filter((l) => /^(E|W|Err):/.test(l.trim()));
    throw new AppError(
      'MIRROR_UNREACHABLE',
      `the Debian mirror is unreachable or incomplete (apt-get update): ${lines.slice(0, 3).join(' | ') || String(e)}`,
      { hint: 'check /etc/apt/sources.list.d and the network to the mirror', cause: e },
    );
  }
  return { listsDir, hash: await snapshotHash(listsDir) };
}

/** parsePolicy reads `apt-cache policy` output: package -> candidate version (undefined: none). */
export function parsePolicy(text: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head?.[1] !== undefined) {
      current = head[1];
      out.set(current, undefined);
      continue;
    }
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand?.[1] !== undefined && current !== undefined) {
      out.set(current, cand[1] === '(none)' ? undefined : cand[1]);
    }
  }
  return out;
}

/** candidateVersions asks the snapshot which version of each package an install would get. */
export async function candidateVersions(
  root: string,
  packages: readonly string[],
): Promise<Map<string, string | undefined>> {
  const unique = [...new Set(packages)].sort();
  if (unique.length === 0) return new Map();
  const { stdout } = await mustRun(['apt-cache', ...aptOptions(root), 'policy', ...unique]);
  const found = parsePolicy(stdout);
  // apt-cache prints nothing at all for a name it has never heard of.
  for (const p of unique) if (!found.has(p)) found.set(p, undefined);
  return found;
}
