/**
 * @module lab/network
 * The lab's network, made safe first: the root namespace gets an `unreachable` route for the lab
 * subnet before any lab address exists (and `ip route get` proves every lab address unroutable),
 * then the undercloud namespace with its bridge, then one namespace per node on a veth pair.
 */
import { existsSync } from 'node:fs';
import { AppError } from '../errors.js';
import { killAndWait, mustRun, type ProcessResult, runProcess } from '../process/index.js';
import type { LabState } from './state.js';
import type { PlannedNode, Topology } from './topology.js';

/** must runs a lab command and throws LAB_FAILED (naming it and its last output) unless it exits 0. */
export async function must(argv: string[], timeoutMs?: number): Promise<string> {
  return (await mustRun(argv, { code: 'LAB_FAILED', ...(timeoutMs === undefined ? {} : { timeoutMs }) }))
    .stdout;
}

/** maybe runs a lab command whose failure is an answer, not an error (a probe, a best-effort removal). */
export function maybe(argv: string[], timeoutMs?: number): Promise<ProcessResult> {
  return runProcess(argv, timeoutMs === undefined ? {} : { timeoutMs });
}

/** exactRoute is the root namespace's route for exactly this subnet ('' when there is none). */
async function exactRoute(subnet: string): Promise<string> {
  return (await must(['ip', 'route', 'show', 'exact', subnet])).trim();
}

/** refuseRoutedSubnet: a subnet already routed here (and not by this lab) stops the lab before it creates anything. */
export async function refuseRoutedSubnet(subnet: string, state: LabState | undefined): Promise<void> {
  const exact = await exactRoute(subnet);
  if (exact !== '' && !state?.created.route)
    throw new AppError('LAB_UNSAFE', `lab subnet ${subnet} is already routed here: ${exact}`, {
      hint: 'choose another lab.subnet in the config (another lab or network uses this one)',
    });
}

/** ensureRoute adds the `unreachable` route for the subnet first, before any lab address exists. */
export async function ensureRoute(subnet: string, state: LabState): Promise<boolean> {
  const exact = await exactRoute(subnet);
  if (exact.startsWith('unreachable') && state.created.route) return false;
  // Someone else's safety route: another lab uses this subnet and would remove it when done.
  if (exact.startsWith('unreachable'))
    throw new AppError('LAB_UNSAFE', `lab subnet ${subnet} is in use by another lab (route: ${exact})`, {
      hint: 'choose another lab.subnet in the config, or tear the other lab down first',
    });
  if (exact !== '')
    throw new AppError('LAB_UNSAFE', `lab subnet ${subnet} is already routed here: ${exact}`, {
      hint: 'choose another lab.subnet in the config',
    });
  await must(['ip', 'route', 'add', 'unreachable', subnet]);
  state.created.route = true;
  return true;
}

/**
 * checkRoutes refuses to go on unless every lab address is unroutable from the root namespace: the
 * only answer allowed is the `unreachable` route (or no route at all, which `ip route get` reports as
 * an error). A route through a gateway or a device means lab packets could leave this machine.
 */
export async function checkRoutes(addresses: string[]): Promise<void> {
  for (const a of addresses) {
    const r = await maybe(['ip', 'route', 'get', a]);
    const text = `${r.stdout}${r.stderr}`.trim();
    const unreachable =
      r.code !== 0 ? /unreachable|No route to host/i.test(text) : /^unreachable /.test(text);
    if (!unreachable)
      throw new AppError('LAB_UNSAFE', `lab address ${a} is routed from this machine: ${text}`, {
        hint: 'choose another lab.subnet in the config: this one is in use here',
      });
  }
}

/** removeRoute deletes the lab's `unreachable` route if it is still there; true when it did. */
export async function removeRoute(subnet: string): Promise<boolean> {
  const exact = (await maybe(['ip', 'route', 'show', 'exact', subnet])).stdout.trim();
  if (!exact.startsWith('unreachable')) return false;
  await must(['ip', 'route', 'del', 'unreachable', subnet]);
  return true;
}

export function nsExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

/** addNamespace creates a namespace (lo up) unless a usable one of this lab is there; true when created. */
export async function addNamespace(ns: string, state: LabState): Promise<boolean> {
  if (nsExists(ns)) {
    // A usable namespace of this lab is kept (re-runs converge). A stale one (its /run/netns file
    // left behind without the namespace mounted on it, e.g. after a killed run) is replaced.
    if ((await maybe(['ip', '-n', ns, 'link', 'show', 'lo'])).code === 0) return false;
    await must(['ip', 'netns', 'del', ns]);
  }
  await must(['ip', 'netns', 'add', ns]);
  state.created.namespaces.push(ns);
  await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  return true;
}

/** ensureBridge gives the undercloud namespace its bridge with the undercloud's address. */
export async function ensureBridge(topo: Topology): Promise<void> {
  const uc = topo.undercloud;
  if ((await maybe(['ip', '-n', uc.ns, 'link', 'show', uc.bridge])).code !== 0)
    await must(['ip', '-n', uc.ns, 'link', 'add', uc.bridge, 'type', 'bridge']);
  await must(['ip', '-n', uc.ns, 'addr', 'replace', `${uc.address}/${topo.prefixLength}`, 'dev', uc.bridge]);
  await must(['ip', '-n', uc.ns, 'link', 'set', uc.bridge, 'up']);
}

/** ensureNodeLink plugs a node into the bridge: a veth pair, eth0 in the node with its address. */
export async function ensureNodeLink(topo: Topology, n: PlannedNode): Promise<void> {
  const uc = topo.undercloud;
  if ((await maybe(['ip', '-n', n.ns, 'link', 'show', 'eth0'])).code !== 0) {
    // A half-made pair from an interrupted run would block the name: remove it first.
    await maybe(['ip', 'link', 'del', n.inner]);
    await must(['ip', 'link', 'add', n.inner, 'type', 'veth', 'peer', 'name', n.outer]);
    await must(['ip', 'link', 'set', n.outer, 'netns', uc.ns]);
    await must(['ip', 'link', 'set', n.inner, 'netns', n.ns]);
    await must(['ip', '-n', n.ns, 'link', 'set', n.inner, 'name', 'eth0']);
  }
  await must(['ip', '-n', n.ns, 'addr', 'replace', `${n.address}/${topo.prefixLength}`, 'dev', 'eth0']);
  await must(['ip', '-n', n.ns, 'link', 'set', 'eth0', 'up']);
  await must(['ip', '-n', uc.ns, 'link', 'set', n.outer, 'master', uc.bridge]);
  await must(['ip', '-n', uc.ns, 'link', 'set', n.outer, 'up']);
}

/** deleteNamespace kills what still runs in it (ssh masters, conmon, a stray client), then deletes it. */
export async function deleteNamespace(ns: string): Promise<boolean> {
  if (!nsExists(ns)) return false;
  const pids = (await maybe(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) await killAndWait(pid, 2000);
  await must(['ip', 'netns', 'del', ns]);
  return true;
}
