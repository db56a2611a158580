/**
 * @module lab/lab
 * The lab on this machine, idempotently: the safety route, an undercloud namespace with a bridge, one
 * namespace per node (veth on the bridge, own address, hostname, sshd, podman storage, /var/lib and
 * /var/log), and the files a deploy reads (inventory.yaml, ssh_config). `labUp` is the script; each
 * step lives with its concern (./network.ts, ./nodes.ts, ./render.ts, ./state.ts), the registries
 * in ./registries.ts and the way back in ./teardown.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { AppError } from '../errors.js';
import {
  addNamespace,
  checkRoutes,
  ensureBridge,
  ensureNodeLink,
  ensureRoute,
  refuseRoutedSubnet,
} from './network.js';
import { ensureKeys, ensureSshd, nodeFiles, waitForSshd, writeIfChanged } from './nodes.js';
import { inventoryYaml, sshConfig } from './render.js';
import {
  freshState,
  type LabConfig,
  type LabPaths,
  type LabState,
  labPaths,
  loadState,
  saveState,
} from './state.js';
import type { Topology } from './topology.js';

export interface UpResult {
  state: LabState;
  /** What this call created or started (empty: the lab was already as planned). */
  changes: string[];
}

/** The privilege separation folder every sshd needs. Shared with other labs: made if missing, never removed. */
const SSHD_RUN_DIR = '/run/sshd';

/** refuseOtherLab: the lab folder holds another lab's state (another name or subnet). */
function refuseOtherLab(state: LabState | undefined, topo: Topology, paths: LabPaths): void {
  if (state && (state.subnet !== topo.subnet || state.name !== topo.name))
    throw new AppError(
      'LAB_FAILED',
      `a lab ${state.name} on ${state.subnet} is up in ${paths.dir}; the config asks for ${topo.name} on ${topo.subnet}`,
      { hint: 'run quickstart --teardown with the old config first' },
    );
}

/** mkdirOwned makes a folder and records it for teardown, unless it exists already (then it is not ours). */
async function mkdirOwned(path: string, state: LabState): Promise<void> {
  if (existsSync(path)) return;
  await mkdir(path, { recursive: true });
  if (!state.created.dirs.includes(path)) state.created.dirs.push(path);
}

/** startState makes the lab and run folders and saves the state in them first, so a failure can be undone. */
async function startState(
  config: LabConfig,
  paths: LabPaths,
  known: LabState | undefined,
): Promise<LabState> {
  const state = known ?? freshState(config, paths);
  await mkdirOwned(paths.dir, state);
  await mkdirOwned(paths.runDir, state);
  await mkdir(paths.logs, { recursive: true });
  await mkdir(SSHD_RUN_DIR, { recursive: true });
  await saveState(paths, state);
  return state;
}

/** labUp creates whatever of the planned lab is missing. */
export async function labUp(
  config: LabConfig,
  topo: Topology,
  say: (line: string) => void,
): Promise<UpResult> {
  const paths = labPaths(config);
  const changes: string[] = [];
  const note = (l: string): void => {
    changes.push(l);
    say(l);
  };
  const known = await loadState(paths);
  refuseOtherLab(known, topo, paths);
  // Refuse a subnet in use here before creating anything at all.
  await refuseRoutedSubnet(topo.subnet, known);
  const state = await startState(config, paths, known);
  try {
    // Safety first: no lab address may be routed out before any of them exists.
    if (await ensureRoute(topo.subnet, state))
      note(`route: unreachable ${topo.subnet} in the root namespace`);
    await saveState(paths, state);
    await checkRoutes([topo.undercloud.address, ...topo.nodes.map((n) => n.address)]);

    const uc = topo.undercloud;
    if (await addNamespace(uc.ns, state)) note(`namespace ${uc.ns} (undercloud ${uc.address})`);
    await saveState(paths, state);
    await ensureBridge(topo);
    await ensureKeys(paths, topo.name);

    for (const n of topo.nodes) {
      if (await addNamespace(n.ns, state)) note(`namespace ${n.ns} (${n.name} ${n.address})`);
      await saveState(paths, state);
      await ensureNodeLink(topo, n);
      await nodeFiles(paths, n, config);
      const pid = await ensureSshd(paths, n, config, state);
      await saveState(paths, state);
      if (pid !== undefined) note(`sshd on ${n.name} (pid ${pid})`);
    }
    for (const n of topo.nodes) await waitForSshd(paths, topo, n);
    await writeIfChanged(paths.sshConfig, sshConfig(topo, paths.keys.client));
    await writeIfChanged(paths.inventory, inventoryYaml(topo, paths.keys.client));
    return { state, changes };
  } finally {
    await saveState(paths, state);
  }
}
