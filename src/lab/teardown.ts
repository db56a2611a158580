/**
 * @module lab/teardown
 * labDown removes what the state file says this lab created: node containers, processes (by pid,
 * checked against their command line), leftovers in our namespaces, the namespaces, the route and
 * our folders. `purge` also removes the upstream registry's store and the images the build tagged.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { aliveWith, killAndWait } from '../process/index.js';
import { deleteNamespace, maybe, removeRoute } from './network.js';
import { sshdKey } from './nodes.js';
import { inNodeArgv } from './render.js';
import { type LabConfig, type LabPaths, type LabState, labPaths, loadState, nodeEnv } from './state.js';
import type { Topology } from './topology.js';

export interface DownResult {
  removed: string[];
}

/** removeContainers removes every container on each running node (inside its own mount namespace). */
async function removeContainers(
  paths: LabPaths,
  topo: Topology,
  state: LabState,
  done: (l: string) => void,
): Promise<void> {
  for (const n of topo.nodes) {
    const rec = state.procs[sshdKey(n)];
    if (!rec || !(await aliveWith(rec.pid, rec.marker))) continue;
    // podman runs in the node's mount namespace, where its storage's mounts are.
    const r = await maybe(
      inNodeArgv(rec.pid, nodeEnv(paths, n), ['podman', 'rm', '-a', '-f', '-t', '0']),
      120_000,
    );
    const count = r.stdout.split('\n').filter(Boolean).length;
    if (count > 0) done(`${count} container(s) on ${n.name}`);
  }
}

/** stopProcesses ends the lab's recorded processes that still run as ours. */
async function stopProcesses(state: LabState, done: (l: string) => void): Promise<void> {
  for (const [key, rec] of Object.entries(state.procs)) {
    if (await aliveWith(rec.pid, rec.marker)) {
      await killAndWait(rec.pid);
      done(`${key} (pid ${rec.pid})`);
    }
  }
}

/** removeNetwork deletes our namespaces (newest first), then the safety route: last, once no lab address exists. */
async function removeNetwork(state: LabState, done: (l: string) => void): Promise<void> {
  for (const ns of [...state.created.namespaces].reverse())
    if (await deleteNamespace(ns)) done(`namespace ${ns}`);
  if (state.created.route && (await removeRoute(state.subnet))) done(`route unreachable ${state.subnet}`);
}

/** removeBuiltNames untags only our names: an image also named otherwise keeps its data. */
async function removeBuiltNames(state: LabState, done: (l: string) => void): Promise<void> {
  if (state.builtNames.length === 0) return;
  const r = await maybe(['podman', 'rmi', '--ignore', ...state.builtNames], 300_000);
  if (r.code === 0) done(`${state.builtNames.length} image name(s) from the build`);
}

/** removeFolders deletes the folders this lab created, newest first. */
async function removeFolders(state: LabState, done: (l: string) => void): Promise<void> {
  for (const d of [...state.created.dirs].reverse()) {
    if (!existsSync(d)) continue;
    await rm(d, { recursive: true, force: true });
    done(`folder ${d}`);
  }
}

export async function labDown(
  config: LabConfig,
  topo: Topology,
  opts: { purge: boolean },
  say: (line: string) => void,
): Promise<DownResult> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  const removed: string[] = [];
  const done = (l: string): void => {
    removed.push(l);
    say(l);
  };
  if (state) {
    await removeContainers(paths, topo, state, done);
    await stopProcesses(state, done);
    await removeNetwork(state, done);
    if (opts.purge) await removeBuiltNames(state, done);
    await removeFolders(state, done);
  }
  if (opts.purge && existsSync(paths.upstreamRoot)) {
    await rm(paths.upstreamRoot, { recursive: true, force: true });
    await rm(`${paths.upstreamRoot}.pushed.json`, { force: true });
    done(`upstream registry store ${paths.upstreamRoot}`);
  }
  return { removed };
}
