/**
 * @module lab/topology
 * Plans the lab from the config, purely: which namespaces, addresses, interface names and host names
 * exist. Everything the lab creates is named from `lab.name`, so teardown can tell ours from others'.
 */
import { AppError } from '../errors.js';
import type { Role } from '../heat/roles.js';
import { formatIp, parseSubnet, type QuickstartConfig } from './config.js';

export interface PlannedNode {
  /** Host name, from the role's HostnameFormatDefault (`overcloud-controller-0`). */
  name: string;
  role: string;
  /** Network namespace (`/run/netns/<ns>`). */
  ns: string;
  address: string;
  /** veth pair: `inner` becomes eth0 in the node, `outer` joins the undercloud's bridge. */
  inner: string;
  outer: string;
  /** Folder name under the lab dir (short: podman's attach socket path has a 108-byte limit). */
  dirName: string;
}

export interface Topology {
  name: string;
  subnet: string;
  prefixLength: number;
  undercloud: { ns: string; address: string; hostname: string; bridge: string };
  nodes: PlannedNode[];
  /** The lab-side "Docker Hub" (read-only twin of the loopback upstream) and the undercloud registry. */
  upstreamRegistry: string;
  undercloudRegistry: string;
}

const FIRST_NODE_OFFSET = 10;

/** hostname renders TripleO's HostnameFormat (`%stackname%-controller-%index%`). */
export function hostname(role: Role | undefined, roleName: string, index: number, stack: string): string {
  const format = role?.HostnameFormatDefault ?? `%stackname%-${roleName.toLowerCase()}-%index%`;
  return format.replaceAll('%stackname%', stack).replaceAll('%index%', String(index));
}

/** planTopology names the nodes from the roles' HostnameFormatDefault, in config order, and lays them out. */
export function planTopology(config: QuickstartConfig, roles: Role[], stack = 'overcloud'): Topology {
  const byName = new Map(roles.map((r) => [r.name, r]));
  const named: { name: string; role: string }[] = [];
  for (const group of config.nodes) {
    const role = byName.get(group.role);
    if (!role)
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${config.path}: overcloud_nodes: unknown role ${group.role}`,
        { hint: `roles in the roles file: ${roles.map((r) => r.name).join(', ')}` },
      );
    for (let i = 0; i < group.count; i++)
      named.push({ name: hostname(role, group.role, i, stack), role: group.role });
  }
  return layoutTopology(config.lab, named, config.path);
}

/**
 * layoutTopology places named nodes on the lab subnet: undercloud .1, nodes from .10 on, in order.
 * `source` names the config in messages.
 */
export function layoutTopology(
  lab: { name: string; subnet: string },
  named: { name: string; role: string }[],
  source: string,
): Topology {
  const sub = parseSubnet(lab.subnet);
  if (typeof sub === 'string') throw new AppError('QUICKSTART_CONFIG_INVALID', `lab.subnet: ${sub}`);
  const size = 2 ** (32 - sub.bits);
  const name = lab.name;
  const nodes: PlannedNode[] = [];
  for (const [k, n] of named.entries()) {
    const offset = FIRST_NODE_OFFSET + k;
    // The last address is the broadcast address.
    if (offset >= size - 1)
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${source}: ${lab.subnet} has room for ${Math.max(0, size - 1 - FIRST_NODE_OFFSET)} node(s), the config asks for more`,
        { hint: 'use a larger lab.subnet (e.g. a /24)' },
      );
    nodes.push({
      name: n.name,
      role: n.role,
      ns: `${name}-n${k}`,
      address: formatIp(sub.base + offset),
      inner: `${name}n${k}a`,
      outer: `${name}n${k}b`,
      dirName: `n${k}`,
    });
  }
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.name))
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${source}: two nodes would be named ${n.name}; check the roles' HostnameFormatDefault`,
      );
    seen.add(n.name);
  }
  const ucAddress = formatIp(sub.base + 1);
  return {
    name,
    subnet: lab.subnet,
    prefixLength: sub.bits,
    undercloud: { ns: `${name}-uc`, address: ucAddress, hostname: 'undercloud', bridge: 'br0' },
    nodes,
    upstreamRegistry: `${ucAddress}:5000`,
    undercloudRegistry: `${ucAddress}:8787`,
  };
}

/** inSubnet tells whether an IPv4 address lies in a CIDR block (for the route safety check). */
export function inSubnet(address: string, subnet: string): boolean {
  const sub = parseSubnet(subnet);
  if (typeof sub === 'string') return false;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!m) return false;
  const n = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
  return n >= sub.base && n < sub.base + 2 ** (32 - sub.bits);
}
