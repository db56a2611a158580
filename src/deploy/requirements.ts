/**
 * @module deploy/requirements
 * Kernel features a service needs on its node (iscsid: an iSCSI initiator; multipathd:
 * device-mapper). Before planning, each node that would run such a service is asked once, with one
 * shell script of all its checks; a service whose feature is missing is left out on that node, with
 * the reason said out loud, as an operator would leave it out on a host without it, rather than
 * started to crash-loop. The plan itself stays pure: the answers are one of its inputs.
 */
import { AppError } from '../errors.js';
import type { NodeConnection } from '../process/index.js';
import { containerServices, type LeftOut, type PlanInput } from './plan.js';

export type { LeftOut };

import type { KernelRequirement } from './template.js';

export interface Probe extends KernelRequirement {
  service: string;
}

/** requirementProbes lists, per node, the kernel checks of the services its role would run. Pure. */
export function requirementProbes(
  input: Pick<PlanInput, 'env' | 'roles' | 'nodes' | 'templates' | 'containerizable'>,
): Map<string, Probe[]> {
  const { byRole } = containerServices(input);
  const out = new Map<string, Probe[]>();
  for (const node of input.nodes) {
    const probes: Probe[] = [];
    for (const service of byRole.get(node.role) ?? []) {
      const template = input.templates.get(input.env.resourceRegistry[service] as string);
      for (const r of template?.kernelRequirements ?? []) probes.push({ service, ...r });
    }
    if (probes.length > 0) out.set(node.name, probes);
  }
  return out;
}

/** probeScript prints `N ok` or `N missing` per check, each in its own subshell. Pure. */
export function probeScript(probes: Probe[]): string {
  return probes
    .map((p, i) => `if ( ${p.check} ) >/dev/null 2>&1; then echo '${i} ok'; else echo '${i} missing'; fi`)
    .join('\n');
}

/** parseProbeOutput turns the script's lines into node -> service -> reason. Pure. */
export function parseProbeOutput(node: string, probes: Probe[], stdout: string): Record<string, string> {
  const answers = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+) (ok|missing)$/.exec(line.trim());
    if (m) answers.set(Number(m[1]), m[2] as string);
  }
  const out: Record<string, string> = {};
  for (const [i, p] of probes.entries()) {
    const a = answers.get(i);
    if (a === undefined)
      throw new AppError('NODE_COMMAND_FAILED', `${node}: the kernel check of ${p.service} gave no answer`);
    if (a === 'missing') {
      const prev = out[p.service];
      out[p.service] = prev ? `${prev}, ${p.feature}` : `this node has no ${p.feature}`;
    }
  }
  return out;
}

/** probeNodes asks every node with checks, in parallel, and says which services are left out where. */
export async function probeNodes(probes: Map<string, Probe[]>, conns: NodeConnection[]): Promise<LeftOut> {
  const leftOut: LeftOut = {};
  await Promise.all(
    [...probes.entries()].map(async ([node, list]) => {
      const conn = conns.find((c) => c.node.name === node);
      if (!conn) throw new AppError('INTERNAL', `no connection to ${node} for its kernel checks`);
      const r = await conn.shell(probeScript(list), { timeoutMs: 60_000 });
      if (r.code !== 0)
        throw new AppError(
          'NODE_COMMAND_FAILED',
          `${node}: kernel checks failed: ${r.stderr.trim() || r.stdout.trim()}`,
        );
      const missing = parseProbeOutput(node, list, r.stdout);
      if (Object.keys(missing).length > 0) leftOut[node] = missing;
    }),
  );
  return leftOut;
}

const short = (s: string): string => s.replace('OS::TripleO::Services::', '');

/** describeLeftOut is the line the deploy prints per service left out (and what runs instead). */
export function describeLeftOut(leftOut: LeftOut, fallbacks: Record<string, string> = {}): string[] {
  return Object.entries(leftOut)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([node, services]) =>
      Object.entries(services)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, why]) => {
          const instead = fallbacks[s];
          return `[kernel] ${node}: ${short(s)} left out: ${why}${instead ? `; ${short(instead)} runs in its place` : ''}`;
        }),
    );
}

/** fallbacksOf maps each service with a kernel_fallback to it (for describeLeftOut). Pure. */
export function fallbacksOf(input: Pick<PlanInput, 'env' | 'templates'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [service, mapping] of Object.entries(input.env.resourceRegistry)) {
    const f = input.templates.get(mapping)?.kernelFallback;
    if (f) out[service] = f;
  }
  return out;
}
