/**
 * @module deploy/load
 * Reads everything the planner needs from disk: the default resource registry then the -e files (as
 * `overcloud deploy --templates` does), roles, inventory, the container definitions the registry maps
 * the enabled services to, and the passwords (generated once, kept 0600).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Environment, HEAT_NONE, loadEnvironments } from '../heat/environment.js';
import { loadRoles, type Role, roleServices } from '../heat/roles.js';
import { isHostTemplate } from '../heat/services.js';
import { type Inventory, loadInventory } from './inventory.js';
import { ensurePasswords } from './passwords.js';
import type { PlanInput } from './plan.js';
import { missingPasswords } from './render.js';
import { loadServiceTemplate, type ServiceTemplate } from './template.js';

export interface LoadOptions {
  templatesDir: string;
  environmentFiles: string[];
  rolesFile?: string;
  inventory?: string;
  passwordsFile: string;
  /** Passwords are only generated (written) for a real deploy; a dry run uses placeholders. */
  writePasswords: boolean;
  /** Nodes `overcloud node delete` took out of the stack: left out of the inventory. */
  removedNodes?: string[];
}

export interface Loaded {
  input: PlanInput;
  inventory: Inventory;
  generatedPasswords: string[];
  /** Inventory nodes left out because `overcloud node delete` removed them. */
  leftOut: string[];
}

/** containerizableServices lists the services the shipped docker.yaml maps to container definitions. */
async function containerizableServices(templatesDir: string): Promise<Set<string>> {
  const dockerEnv = join(templatesDir, 'environments', 'docker.yaml');
  if (!existsSync(dockerEnv)) return new Set();
  const env = await loadEnvironments([dockerEnv]);
  return new Set(
    Object.entries(env.resourceRegistry)
      .filter(([, t]) => t !== HEAT_NONE && !isHostTemplate(t))
      .map(([s]) => s),
  );
}

/** loadTemplates loads each container definition that a deployed role's service maps to (once). */
async function loadTemplates(
  env: Environment,
  roles: Role[],
  inventory: Inventory,
): Promise<Map<string, ServiceTemplate>> {
  const used = new Set(inventory.nodes.map((n) => n.role));
  const paths = new Set<string>();
  for (const role of roles.filter((r) => used.has(r.name))) {
    for (const s of roleServices(role, env.parameterDefaults)) {
      const t = env.resourceRegistry[s];
      // Missing files are left out here: the planner reports them with the service's name.
      if (t && t !== HEAT_NONE && !isHostTemplate(t) && existsSync(t)) paths.add(t);
    }
  }
  const templates = new Map<string, ServiceTemplate>();
  for (const p of [...paths].sort()) templates.set(p, await loadServiceTemplate(p));
  // A kernel_fallback may run in a service's place: its definition (and passwords) are loaded too.
  for (const t of [...templates.values()]) {
    const mapping = t.kernelFallback === undefined ? undefined : env.resourceRegistry[t.kernelFallback];
    if (
      mapping &&
      mapping !== HEAT_NONE &&
      !isHostTemplate(mapping) &&
      existsSync(mapping) &&
      !templates.has(mapping)
    )
      templates.set(mapping, await loadServiceTemplate(mapping));
  }
  return templates;
}

/** withoutRemoved leaves out the nodes `overcloud node delete` removed, as TripleO's removal policies did. */
function withoutRemoved(inventory: Inventory, removed: string[]): Inventory {
  return { ...inventory, nodes: inventory.nodes.filter((n) => !removed.includes(n.name)) };
}

/** loadDeployInput reads all inputs and resolves passwords. */
export async function loadDeployInput(opts: LoadOptions): Promise<Loaded> {
  const env = await loadEnvironments([
    join(opts.templatesDir, 'overcloud-resource-registry.yaml'),
    ...opts.environmentFiles,
  ]);
  const roles = await loadRoles(opts.rolesFile ?? join(opts.templatesDir, 'roles_data.yaml'));
  const listed = await loadInventory(opts.inventory, roles);
  const inventory = withoutRemoved(listed, opts.removedNodes ?? []);
  const leftOut = listed.nodes.filter((n) => !inventory.nodes.includes(n)).map((n) => n.name);
  const templates = await loadTemplates(env, roles, inventory);
  const needed = new Set<string>();
  for (const t of templates.values()) for (const name of missingPasswords(t, env, {})) needed.add(name);
  const { passwords, generated } = await ensurePasswords(
    opts.passwordsFile,
    [...needed].sort(),
    opts.writePasswords,
  );
  return {
    input: {
      env,
      roles,
      nodes: inventory.nodes,
      templates,
      containerizable: await containerizableServices(opts.templatesDir),
      passwords,
    },
    inventory,
    generatedPasswords: generated,
    leftOut,
  };
}
