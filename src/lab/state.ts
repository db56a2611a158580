/**
 * @module lab/state
 * Where a lab keeps its things (`labPaths`) and what it created (`LabState`, lab.json in the lab
 * folder). The state is saved after every creation, so teardown removes exactly what this lab made
 * and nothing else, whatever failed in between.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { QuickstartConfig } from './config.js';

/** What the lab functions read of a config: its `lab` section (a test may also place the upstream store). */
export interface LabConfig {
  lab: QuickstartConfig['lab'] & {
    /** The upstream registry's store; default under UPSTREAM_ROOT, where it survives teardown. */
    upstreamRoot?: string;
  };
}

export interface ProcRecord {
  pid: number;
  /** A string the process's command line contains: a reused pid is never taken for ours. */
  marker: string;
}

export interface LabState {
  version: 1;
  name: string;
  subnet: string;
  dir: string;
  runDir: string;
  /** Only what this lab created: teardown removes these and nothing else. */
  created: { route: boolean; namespaces: string[]; dirs: string[] };
  procs: Record<string, ProcRecord>;
  upstreamPort?: number;
  /** Local image names the build stage tagged for this lab (removed by --purge). */
  builtNames: string[];
}

export interface LabPaths {
  dir: string;
  runDir: string;
  stateFile: string;
  keys: { host: string; client: string; authorized: string };
  sshConfig: string;
  inventory: string;
  undercloudRegistryRoot: string;
  /** Built images pushed "upstream": a cache that survives teardown (removed by --purge). */
  upstreamRoot: string;
  stackDir: string;
  logs: string;
}

export const UPSTREAM_ROOT = '/var/cache/overcloud/quickstart-upstream';

export function labPaths(config: LabConfig): LabPaths {
  const dir = config.lab.dir;
  return {
    dir,
    runDir: `/run/${config.lab.name}`,
    stateFile: join(dir, 'lab.json'),
    keys: {
      host: join(dir, 'host_key'),
      client: join(dir, 'client_key'),
      authorized: join(dir, 'authorized_keys'),
    },
    sshConfig: join(dir, 'ssh_config'),
    inventory: join(dir, 'inventory.yaml'),
    undercloudRegistryRoot: join(dir, 'registry'),
    upstreamRoot: config.lab.upstreamRoot ?? `${UPSTREAM_ROOT}/${config.lab.name}`,
    stackDir: join(dir, 'stack'),
    logs: join(dir, 'logs'),
  };
}

/** nodeDir is a node's folder in the lab folder (short: podman's attach socket path is limited). */
export function nodeDir(paths: LabPaths, n: { dirName: string }): string {
  return join(paths.dir, n.dirName);
}

/** nodeEnv is what every podman call on a node needs: its own config and storage. */
export function nodeEnv(paths: LabPaths, n: { dirName: string }): Record<string, string> {
  const d = nodeDir(paths, n);
  return { CONTAINERS_CONF: join(d, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(d, 'storage.conf') };
}

export function freshState(config: LabConfig, paths: LabPaths): LabState {
  return {
    version: 1,
    name: config.lab.name,
    subnet: config.lab.subnet,
    dir: paths.dir,
    runDir: paths.runDir,
    created: { route: false, namespaces: [], dirs: [] },
    procs: {},
    builtNames: [],
  };
}

export async function loadState(paths: LabPaths): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(paths.stateFile, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export async function saveState(paths: LabPaths, state: LabState): Promise<void> {
  await mkdir(dirname(paths.stateFile), { recursive: true });
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** recordBuiltNames adds the local image names the build tagged for this lab (for --purge). */
export async function recordBuiltNames(config: LabConfig, names: string[]): Promise<void> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  if (!state) return;
  const merged = [...new Set([...state.builtNames, ...names])].sort();
  if (merged.length === state.builtNames.length) return;
  state.builtNames = merged;
  await saveState(paths, state);
}
