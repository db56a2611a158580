/**
 * @module nodes
 * Day-2 node operations on a deployed stack. `overcloud node delete` (TripleO's `openstack overcloud
 * node delete`): plan purely from the stack's record, then take the nodes out of the cloud and out of
 * the stack, so that the next deploy no longer expects them.
 */
import { loadRecord, type RemovedNode, saveRecord, saveRemoved } from '../deploy/index.js';
import { connectAll, type InventoryNode, runProcess } from '../process/index.js';
import { forgetNodes, openstackClient, rcFile, readOvercloudrc, readServices } from '../validate/index.js';
import { executeNodeDelete } from './execute.js';
import { type DeletePlan, planNodeDelete } from './plan.js';

export type { DeletePlan, NodeDeletion } from './plan.js';

export interface NodeDeleteOptions {
  stack: string;
  stateDir: string;
  names: string[];
  allowController: boolean;
  force: boolean;
  dryRun: boolean;
  out: (line: string) => void;
}

/** deleteNodes: read the stack, plan, (unless a dry run) carry it out, then record the removal. */
export async function deleteNodes(opts: NodeDeleteOptions): Promise<DeletePlan> {
  const record = await loadRecord(opts.stateDir);
  const plan = planNodeDelete({
    stack: opts.stack,
    names: opts.names,
    nodes: record.inventory.nodes,
    services: (await readServices(opts.stateDir)) ?? {},
    allowController: opts.allowController,
  });
  if (opts.dryRun) return plan;
  const cloud = openstackClient(await readOvercloudrc(rcFile(opts.stateDir)));
  try {
    await executeNodeDelete(plan, cloud, (d) => connectOne(d.node, record.inventory.ssh), opts);
  } finally {
    cloud.close();
  }
  await recordRemoval(opts.stateDir, plan, record);
  opts.out(
    `node delete: removed ${plan.deletions.map((d) => d.node.name).join(', ')} from ${opts.stack}; ${plan.remaining.length} node(s) remain (the next deploy leaves the removed ones out)`,
  );
  return plan;
}

/** connectOne opens the deploy's own connection to one node. */
async function connectOne(node: InventoryNode, ssh: Parameters<typeof connectAll>[1]) {
  const [conn] = await connectAll([node], ssh, runProcess);
  return conn as NonNullable<typeof conn>;
}

/** recordRemoval adds the nodes to the removal list and drops them from the record and services.json. */
async function recordRemoval(
  dir: string,
  plan: DeletePlan,
  record: Awaited<ReturnType<typeof loadRecord>>,
): Promise<void> {
  const now = new Date().toISOString();
  const removed: RemovedNode[] = plan.deletions.map((d) => ({
    name: d.node.name,
    role: d.node.role,
    removedAt: now,
  }));
  await saveRemoved(dir, removed);
  const names = removed.map((r) => r.name);
  await saveRecord(dir, {
    ...record,
    inventory: { ...record.inventory, nodes: record.inventory.nodes.filter((n) => !names.includes(n.name)) },
  });
  await forgetNodes(dir, names);
}
