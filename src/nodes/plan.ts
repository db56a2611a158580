/**
 * @module nodes/plan
 * What `overcloud node delete` will do, decided purely from the stack's record of its last deploy
 * and the names asked for: which nodes go, and why a request is refused before anything changes.
 */
import { AppError } from '../errors.js';
import type { InventoryNode } from '../process/index.js';

/** Services whose presence makes a node part of the control plane (TripleO's Controller role). */
const CONTROL_PLANE = ['Keystone', 'MySQL', 'RabbitMQ', 'HAProxy', 'NovaApi', 'NeutronApi', 'Pacemaker'];

export interface DeleteRequest {
  stack: string;
  names: string[];
  /** Nodes of the last deploy. */
  nodes: InventoryNode[];
  /** services.json of the last deploy: service -> node names. */
  services: Record<string, string[]>;
  /** --allow-controller: the operator said explicitly that a control-plane node may go. */
  allowController: boolean;
}

export interface NodeDeletion {
  node: InventoryNode;
  /** The node runs nova-compute: its compute service and hypervisor leave Nova. */
  compute: boolean;
  /** The node runs Neutron agents: they leave Neutron. */
  networkAgents: boolean;
  /** Control-plane services on the node (only with allowController). */
  controlPlane: string[];
}

export interface DeletePlan {
  stack: string;
  deletions: NodeDeletion[];
  /** Nodes that stay in the stack. */
  remaining: string[];
}

const shortName = (service: string): string => service.replace(/^OS::TripleO::Services::/, '');

/** servicesOn lists the (short) services the last deploy placed on a node. */
function servicesOn(node: string, services: Record<string, string[]>): string[] {
  return Object.entries(services)
    .filter(([, nodes]) => nodes.includes(node))
    .map(([s]) => shortName(s))
    .sort();
}

/** planNodeDelete checks every name and returns the deletions, or throws before anything changes. */
export function planNodeDelete(req: DeleteRequest): DeletePlan {
  if (req.names.length === 0) throw new AppError('USAGE', 'node delete: name at least one node');
  const known = new Map(req.nodes.map((n) => [n.name, n]));
  const unknown = req.names.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new AppError(
      'USAGE',
      `node delete: ${unknown.join(', ')} not in stack ${req.stack} (its nodes: ${[...known.keys()].join(', ')})`,
    );
  const names = [...new Set(req.names)];
  const deletions = names.map((name): NodeDeletion => {
    const node = known.get(name) as InventoryNode;
    const on = servicesOn(name, req.services);
    const controlPlane = on.filter((s) => CONTROL_PLANE.includes(s));
    return {
      node,
      compute: on.includes('NovaCompute'),
      networkAgents: on.some((s) => /^Neutron.*Agent$|^ComputeNeutron/.test(s)),
      controlPlane,
    };
  });
  const controllers = deletions.filter((d) => d.controlPlane.length > 0);
  if (controllers.length > 0 && !req.allowController)
    throw new AppError(
      'NODE_DELETE_REFUSED',
      `node delete: ${controllers.map((d) => `${d.node.name} runs ${d.controlPlane.join(', ')}`).join('; ')}`,
      {
        hint: 'removing a control-plane node takes its services away from the cloud; pass --allow-controller if that is what you mean',
      },
    );
  const remaining = req.nodes.map((n) => n.name).filter((n) => !names.includes(n));
  if (remaining.length === 0)
    throw new AppError('NODE_DELETE_REFUSED', `node delete: that would remove every node of ${req.stack}`, {
      hint: 'to remove the whole overcloud, tear it down instead',
    });
  return { stack: req.stack, deletions, remaining };
}
