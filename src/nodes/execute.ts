/**
 * @module nodes/execute
 * Carries out a node-delete plan, in TripleO's order: refuse while servers run on a compute node
 * (unless told), take it out of scheduling, stop its containers, then remove its compute service and
 * network agents from the cloud (a running agent would only register itself again).
 */
import { AppError } from '../errors.js';
import { describeFailure, type NodeConnection } from '../process/index.js';
import type { DeletePlan, NodeDeletion } from './plan.js';

/** The part of the `openstack` client this needs (validate's client provides it). */
export interface CloudClient {
  run(args: string[], timeoutMs?: number): Promise<string>;
  json<T>(args: string[], timeoutMs?: number): Promise<T>;
}

export interface ExecuteOptions {
  /** --force: delete a compute node although servers still run there. */
  force: boolean;
  out: (line: string) => void;
}

interface Named {
  ID?: string;
  Id?: string;
  id?: string;
  Name?: string;
}
const idOf = (r: Named): string => String(r.ID ?? r.Id ?? r.id ?? '');

/** serversOn lists the servers Nova has on a compute host (every project). */
async function serversOn(cloud: CloudClient, host: string): Promise<string[]> {
  const rows = await cloud.json<Named[]>(['server', 'list', '--all-projects', '--host', host]);
  return rows.map((r) => `${r.Name ?? '?'} (${idOf(r)})`);
}

/** refuseBusyComputes stops before any change when a compute node still hosts servers. */
async function refuseBusyComputes(cloud: CloudClient, plan: DeletePlan, force: boolean): Promise<void> {
  const busy: string[] = [];
  for (const d of plan.deletions.filter((x) => x.compute)) {
    const servers = await serversOn(cloud, d.node.name);
    if (servers.length > 0) busy.push(`${d.node.name}: ${servers.join(', ')}`);
  }
  if (busy.length > 0 && !force)
    throw new AppError('NODE_DELETE_REFUSED', `node delete: servers still run there: ${busy.join('; ')}`, {
      hint: 'migrate or delete them first, or pass --force to remove the node anyway (its servers are lost)',
    });
}

/** disableCompute takes the node's nova-compute out of scheduling. */
async function disableCompute(cloud: CloudClient, d: NodeDeletion): Promise<void> {
  await cloud.run([
    'compute',
    'service',
    'set',
    '--disable',
    '--disable-reason',
    'overcloud node delete',
    d.node.name,
    'nova-compute',
  ]);
}

/** stopContainers removes every container the deploy manages on the node. */
async function stopContainers(conn: NodeConnection): Promise<number> {
  const script =
    'ids=$(podman ps -aq --filter label=managed_by); [ -z "$ids" ] || podman rm -f $ids >/dev/null; echo "$ids" | grep -c . || true\n';
  const r = await conn.shell(script, { timeoutMs: 5 * 60_000 });
  if (r.code !== 0)
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `node ${conn.node.name}: cannot remove its containers: ${describeFailure(r)}`,
    );
  return Number(r.stdout.trim().split('\n').pop() ?? 0) || 0;
}

/** deleteCompute removes the node's nova-compute service (and with it its hypervisor) from Nova. */
async function deleteCompute(cloud: CloudClient, d: NodeDeletion): Promise<number> {
  const rows = await cloud.json<Named[]>([
    'compute',
    'service',
    'list',
    '--service',
    'nova-compute',
    '--host',
    d.node.name,
  ]);
  for (const r of rows) await cloud.run(['compute', 'service', 'delete', idOf(r)]);
  return rows.length;
}

/** deleteAgents removes the node's network agents from Neutron. */
async function deleteAgents(cloud: CloudClient, d: NodeDeletion): Promise<number> {
  const rows = await cloud.json<Named[]>(['network', 'agent', 'list', '--host', d.node.name]);
  if (rows.length > 0) await cloud.run(['network', 'agent', 'delete', ...rows.map(idOf)]);
  return rows.length;
}

/** executeNodeDelete carries out the plan; the caller records the removal once it returns. */
export async function executeNodeDelete(
  plan: DeletePlan,
  cloud: CloudClient,
  connect: (d: NodeDeletion) => Promise<NodeConnection>,
  opts: ExecuteOptions,
): Promise<void> {
  await refuseBusyComputes(cloud, plan, opts.force);
  for (const d of plan.deletions) {
    const name = d.node.name;
    if (d.compute) {
      await disableCompute(cloud, d);
      opts.out(`[${name}] nova-compute disabled (no new servers)`);
    }
    const conn = await connect(d);
    try {
      opts.out(`[${name}] removed ${await stopContainers(conn)} container(s)`);
    } finally {
      await conn.close();
    }
    if (d.compute)
      opts.out(`[${name}] deleted ${await deleteCompute(cloud, d)} compute service(s) from Nova`);
    if (d.networkAgents || d.compute)
      opts.out(`[${name}] deleted ${await deleteAgents(cloud, d)} network agent(s) from Neutron`);
  }
}
