/**
 * @module deploy/inventory
 * The nodes to deploy: an inventory file (name, role, address, SSH user) or `localhost`, one node on
 * this machine that runs the primary role. The inventory, not `<Role>Count`, says how many nodes a
 * role has: nodes exist before the deploy here (no provisioning).
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Role } from '../heat/roles.js';
import type { InventoryNode, SshSettings } from '../process/index.js';
import { loadYamlFile, where, type YamlFile } from '../util/yaml.js';

/** The node types live in the process layer (node connections need them); deploy's files import them here. */
export type { InventoryNode, SshSettings };

export interface Inventory {
  nodes: InventoryNode[];
  ssh: SshSettings;
}

const NodeSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9.-]*$/, 'a host name'),
  role: z.string(),
  address: z.string().min(1),
  user: z.string().default('root'),
  port: z.number().int().positive().optional(),
  connection: z.enum(['local', 'ssh']).optional(),
});
const InventorySchema = z.strictObject({
  nodes: z.array(NodeSchema).min(1),
  ssh: z
    .strictObject({
      identity_file: z.string().optional(),
      options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    })
    .optional(),
});

const LOCAL_ADDRESSES = new Set(['localhost', '127.0.0.1', '::1']);

/** parseInventory validates an inventory file against the roles. Pure. */
export function parseInventory(file: YamlFile, roles: Role[]): Inventory {
  const r = InventorySchema.safeParse(file.value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    throw new AppError(
      'INVENTORY_INVALID',
      `${where(file, path)}: inventory ${path.join('.')}: ${issue?.message}`,
      {
        hint: 'expected nodes: [{name, role, address, user}], see README "Deploy"',
      },
    );
  }
  const names = new Set<string>();
  const roleNames = new Set(roles.map((x) => x.name));
  const nodes = r.data.nodes.map((n, i): InventoryNode => {
    if (names.has(n.name))
      throw new AppError('INVENTORY_INVALID', `${where(file, ['nodes', i])}: node ${n.name} is listed twice`);
    names.add(n.name);
    if (!roleNames.has(n.role)) {
      throw new AppError(
        'INVENTORY_INVALID',
        `${where(file, ['nodes', i, 'role'])}: node ${n.name}: unknown role ${n.role}`,
        {
          hint: `roles in the roles file: ${[...roleNames].join(', ')}`,
        },
      );
    }
    return {
      name: n.name,
      role: n.role,
      address: n.address,
      user: n.user,
      ...(n.port === undefined ? {} : { port: n.port }),
      connection: n.connection ?? (LOCAL_ADDRESSES.has(n.address) ? 'local' : 'ssh'),
    };
  });
  const options = Object.fromEntries(
    Object.entries(r.data.ssh?.options ?? {}).map(([k, v]) => [k, String(v)]),
  );
  const identityFile = r.data.ssh?.identity_file;
  return { nodes, ssh: identityFile === undefined ? { options } : { identityFile, options } };
}

/** primaryRole is the role tagged primary and controller, else the first (TripleO's rule). */
export function primaryRole(roles: Role[]): Role {
  const tagged = roles.find((r) => r.tags?.includes('primary') && r.tags.includes('controller'));
  const role = tagged ?? roles[0];
  if (!role) throw new AppError('ROLES_INVALID', 'the roles file defines no role');
  return role;
}

/** localhostInventory is one local node running the primary role. */
export function localhostInventory(roles: Role[]): Inventory {
  return {
    nodes: [
      {
        name: 'localhost',
        role: primaryRole(roles).name,
        address: 'localhost',
        user: 'root',
        connection: 'local',
      },
    ],
    ssh: { options: {} },
  };
}

/** loadInventory reads an inventory file, or builds the localhost one for the literal `localhost`. */
export async function loadInventory(pathOrLocalhost: string | undefined, roles: Role[]): Promise<Inventory> {
  if (pathOrLocalhost === undefined || pathOrLocalhost === 'localhost') return localhostInventory(roles);
  return parseInventory(await loadYamlFile(pathOrLocalhost, 'inventory file'), roles);
}
