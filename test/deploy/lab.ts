/**
 * @module test/deploy/lab
 * The deploy tests' lab is the quickstart's lab (src/lab), on a subnet and under a name of its own
 * so that several tests (and a quickstart) can run side by side: 10.231.X.0/24 with X not routed
 * here, lab name `tX`, folder /var/tmp/oc-lab-X-*. src/lab adds the `unreachable` route before any
 * lab address exists, checks it with `ip route get`, and removes exactly what it made in `down`,
 * also after failures. Tests push images to the loopback registry (`pushUrl`); nodes pull the same
 * store from the lab address (`registryHost`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  clientSshArgs,
  DEFAULT_NODE_DIRS,
  ensureRegistries,
  inNodeArgv,
  type LabConfig,
  labDown,
  labPaths,
  labUp as labUpInSrc,
  layoutTopology,
  loadState,
  nodeEnv,
  type PlannedNode,
  sshdKey,
  type Topology,
} from '../../src/lab/index.js';
import { inNet, mustRun, type ProcessResult } from '../../src/process/index.js';
import { pushServiceImages } from './images.js';

export interface LabNode extends PlannedNode {
  /** The node's folder in the lab folder (podman storage, its /var/lib and /var/log copies). */
  dir: string;
}

export interface Lab {
  dir: string;
  /** The subnet's first three octets (`10.231.X`). */
  prefix: string;
  undercloud: { ns: string; address: string };
  nodes: LabNode[];
  /** Host nodes pull from: the read-only registry at the lab address (the loopback one's store). */
  registryHost: string;
  /** http://127.0.0.1:PORT: the same store, served in the root namespace so tests can push. */
  pushUrl: string;
  inventoryFile: string;
  /** inNs runs argv inside a namespace's network (nsenter --net, never ip netns exec); throws on failure. */
  inNs(ns: string, argv: string[], timeoutMs?: number): Promise<ProcessResult>;
  /** inNode runs argv in a node's network and mount namespaces, with the node's podman config. */
  inNode(node: LabNode, argv: string[]): Promise<ProcessResult>;
  down(): Promise<void>;
}

export interface LabSpec {
  nodes: { name: string; role: string }[];
}

/** pickSubnet chooses X for 10.231.X.0/24: not routed here, and no namespace of a lab `tX` left. */
async function pickSubnet(): Promise<number> {
  const routes = (await mustRun(['ip', 'route'])).stdout;
  for (let i = 0; i < 50; i++) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.231.${x}.`) && !existsSync(`/run/netns/t${x}-uc`)) return x;
  }
  throw new Error('no free 10.231.X.0/24 subnet');
}

/** twoNodeLab is the e2e topology: a controller and a compute, with `images` pushed to the lab registry. */
export async function twoNodeLab(images: string[]): Promise<Lab> {
  const lab = await labUp({
    nodes: [
      { name: 'overcloud-controller-0', role: 'Controller' },
      { name: 'overcloud-novacompute-0', role: 'Compute' },
    ],
  });
  try {
    await pushServiceImages(lab.pushUrl, images);
  } catch (e) {
    await lab.down();
    throw e;
  }
  return lab;
}

/** labUp builds the lab with its registries; on any failure it tears down what it made and rethrows. */
export async function labUp(spec: LabSpec): Promise<Lab> {
  const x = await pickSubnet();
  // Short on purpose: podman's attach socket lives under the node folder, and a unix socket path
  // over 108 bytes makes every attached `podman run` wait ~20 s for a time-out.
  const dir = `/var/tmp/oc-lab-${x}-${Math.random().toString(36).slice(2, 8)}`;
  const config: LabConfig = {
    lab: {
      subnet: `10.231.${x}.0/24`,
      name: `t${x}`,
      dir,
      nodeDirs: DEFAULT_NODE_DIRS,
      upstreamRoot: join(dir, 'upstream'),
    },
  };
  const topo: Topology = layoutTopology(config.lab, spec.nodes, 'test lab');
  const paths = labPaths(config);
  const down = async (): Promise<void> => {
    await labDown(config, topo, { purge: true }, () => {});
  };
  const quiet = (): void => {};
  let upstreamLoopback: string;
  try {
    await labUpInSrc(config, topo, quiet);
    upstreamLoopback = (await ensureRegistries(config, topo, quiet)).upstreamLoopback;
  } catch (e) {
    await down();
    throw e;
  }
  const sshdPid = async (n: PlannedNode): Promise<number> => {
    const pid = (await loadState(paths))?.procs[sshdKey(n)]?.pid;
    if (pid === undefined) throw new Error(`node ${n.name} has no sshd`);
    return pid;
  };
  return {
    dir,
    prefix: `10.231.${x}`,
    undercloud: { ns: topo.undercloud.ns, address: topo.undercloud.address },
    nodes: topo.nodes.map((n) => ({ ...n, dir: join(dir, n.dirName) })),
    registryHost: topo.upstreamRegistry,
    pushUrl: `http://${upstreamLoopback}`,
    inventoryFile: paths.inventory,
    inNs: (ns, argv, timeoutMs = 60_000) => mustRun(inNet(ns, argv), { timeoutMs }),
    inNode: async (n, argv) =>
      mustRun(inNodeArgv(await sshdPid(n), nodeEnv(paths, n), argv), { timeoutMs: 60_000 }),
    down,
  };
}

/** sshOptions are the lab's ssh client options (for Ansible's ssh_common_args in the bench). */
export function sshOptions(dir: string): string[] {
  return clientSshArgs(join(dir, 'client_key'));
}
