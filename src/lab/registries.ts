/**
 * @module lab/registries
 * The lab's registries, started detached with `overcloud registry serve`: Docker Hub's stand-in on
 * loopback (image build pushes there from this machine), its read-only twin at the lab address (the
 * lab pulls from it, same store), and the undercloud's :8787.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { aliveWith, inNet, runProcess, startDaemon } from '../process/index.js';
import { freePort } from '../util/net.js';
import { cliCommand } from '../util/paths.js';
import { type LabConfig, type LabPaths, type LabState, labPaths, loadState, saveState } from './state.js';
import type { Topology } from './topology.js';
import { waitUntil } from './wait.js';

interface WantedRegistry {
  key: string;
  argv: string[];
  /** Part of the command line: tells our process from another with a reused pid. */
  marker: string;
  /** Answers 0 once the registry serves. */
  probe: string[];
}

/** healthProbe asks a registry's /healthz (busybox wget: no curl needed in the lab). */
function healthProbe(address: string): string[] {
  return ['busybox', 'wget', '-q', '-O', '-', `http://${address}/healthz`];
}

/** wantedRegistries lists the three registries of the lab with their command lines. */
function wantedRegistries(paths: LabPaths, topo: Topology, upstreamLoopback: string): WantedRegistry[] {
  const cli = [...cliCommand(), 'registry', 'serve', '--quiet'];
  const ns = topo.undercloud.ns;
  return [
    {
      key: 'registry:upstream',
      argv: [...cli, '--listen', upstreamLoopback, '--root', paths.upstreamRoot],
      marker: `--listen ${upstreamLoopback} --root ${paths.upstreamRoot}`,
      probe: healthProbe(upstreamLoopback),
    },
    {
      key: 'registry:upstream-lab',
      argv: inNet(ns, [
        ...cli,
        '--listen',
        topo.upstreamRegistry,
        '--root',
        paths.upstreamRoot,
        '--read-only',
      ]),
      marker: `--listen ${topo.upstreamRegistry} --root ${paths.upstreamRoot}`,
      probe: inNet(ns, healthProbe(topo.upstreamRegistry)),
    },
    {
      key: 'registry:undercloud',
      argv: inNet(ns, [...cli, '--listen', topo.undercloudRegistry, '--root', paths.undercloudRegistryRoot]),
      marker: `--listen ${topo.undercloudRegistry} --root ${paths.undercloudRegistryRoot}`,
      probe: inNet(ns, healthProbe(topo.undercloudRegistry)),
    },
  ];
}

/** ensureRegistries starts whichever of the lab's registries is not running, and waits for each. */
export async function ensureRegistries(
  config: LabConfig,
  topo: Topology,
  say: (line: string) => void,
): Promise<{ state: LabState; changes: string[]; upstreamLoopback: string }> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  if (!state)
    throw new AppError('LAB_FAILED', `no lab state in ${paths.stateFile}; the lab stage must run first`);
  const changes: string[] = [];
  if (state.upstreamPort === undefined) state.upstreamPort = await freePort();
  const upstreamLoopback = `127.0.0.1:${state.upstreamPort}`;
  await mkdir(paths.upstreamRoot, { recursive: true });
  await mkdir(paths.undercloudRegistryRoot, { recursive: true });
  for (const w of wantedRegistries(paths, topo, upstreamLoopback)) {
    const rec = state.procs[w.key];
    if (rec && (await aliveWith(rec.pid, w.marker))) continue;
    const pid = startDaemon(w.argv, join(paths.logs, `${w.key.replace(':', '-')}.log`));
    state.procs[w.key] = { pid, marker: w.marker };
    await saveState(paths, state);
    changes.push(`${w.key} (pid ${pid})`);
    say(`started ${w.key} (pid ${pid})`);
    await waitUntil(async () => (await runProcess(w.probe, { timeoutMs: 3000 })).code === 0, w.key);
  }
  return { state, changes, upstreamLoopback };
}
