/**
 * @module deploy/plan
 * The pure planner: merged environment + roles + inventory + container service definitions ->
 * per node, per step, the exact container specs, and the config files they read. Each config volume
 * and kolla config.json gets a content hash; every container that mounts one gets TRIPLEO_CONFIG_HASH
 * in its environment, so a config change changes exactly those containers' `config_data` (research §3.3).
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors.js';
import { type Environment, HEAT_NONE } from '../heat/environment.js';
import { type Role, roleServices } from '../heat/roles.js';
import { isHostTemplate } from '../heat/services.js';
import type { InventoryNode } from './inventory.js';
import { type KollaConfig, type NodeFacts, type RenderedFile, renderService } from './render.js';
import { type ContainerSpec, canonicalJson } from './spec.js';
import type { ServiceTemplate } from './template.js';

/** Where TripleO keeps generated config: one directory per config volume (docker-puppet's layout). */
/** Services left out per node (node -> service -> why), because its kernel lacks what they need (./requirements.ts). */
export type LeftOut = Record<string, Record<string, string>>;

export const CONFIG_DATA_DIR = '/var/lib/config-data/puppet-generated';
export const STEPS = [1, 2, 3, 4, 5] as const;

export interface PlanInput {
  env: Environment;
  roles: Role[];
  nodes: InventoryNode[];
  /** Loaded definitions, keyed by the absolute path the resource registry maps to. */
  templates: ReadonlyMap<string, ServiceTemplate>;
  /** Services the shipped environments/docker.yaml containerizes (for the "include it" hint). */
  containerizable: ReadonlySet<string>;
  passwords: Record<string, string>;
  /** Services left out per node because its kernel lacks what they need (./requirements.ts). */
  leftOut?: LeftOut;
}

export interface PlannedContainer {
  name: string;
  service: string;
  step: number;
  configId: string;
  spec: ContainerSpec;
  bootstrap: boolean;
  /** The `config_data` label: canonical JSON of spec. */
  configData: string;
}

export interface PlannedVolume {
  name: string;
  hash: string;
  files: { path: string; content: string; mode: string }[];
}

export interface PlannedKolla {
  path: string;
  content: string;
  hash: string;
}

export interface NodePlan {
  node: InventoryNode;
  managedBy: string;
  services: string[];
  hostDirectories: string[];
  volumes: PlannedVolume[];
  kolla: PlannedKolla[];
  /** step -> containers in apply order (start_order, then name). */
  steps: Map<number, PlannedContainer[]>;
  images: string[];
  /** Services of the node's role left out here, and why (a kernel feature it lacks). */
  leftOut: Record<string, string>;
}

export interface DeployPlan {
  nodes: NodePlan[];
  /** Enabled services mapped to host (puppet) templates: not deployed by this tool. */
  hostServices: string[];
  bootstrapNodes: Record<string, string>;
}

export const configIdOf = (step: number): string => `tripleo_step${step}`;
export const managedByOf = (role: string): string => `overcloud-${role}`;

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** containerServices decides per role which services run in containers, with clear errors. */
export function containerServices(
  input: Pick<PlanInput, 'env' | 'roles' | 'nodes' | 'templates' | 'containerizable'>,
): { byRole: Map<string, string[]>; hostServices: string[] } {
  const byRole = new Map<string, string[]>();
  const host = new Set<string>();
  const usedRoles = new Set(input.nodes.map((n) => n.role));
  for (const role of input.roles.filter((r) => usedRoles.has(r.name))) {
    const list: string[] = [];
    for (const service of roleServices(role, input.env.parameterDefaults)) {
      const mapping = input.env.resourceRegistry[service];
      if (mapping === HEAT_NONE) continue;
      if (mapping === undefined) {
        throw new AppError(
          'SERVICE_UNMAPPED',
          `service ${service} (role ${role.name}) has no resource_registry entry`,
          {
            hint: 'map it in an environment file, or to OS::Heat::None to disable it',
          },
        );
      }
      if (isHostTemplate(mapping)) {
        if (input.containerizable.has(service)) {
          throw new AppError(
            'SERVICE_UNMAPPED',
            `service ${service} (role ${role.name}) maps to ${mapping}, a bare-metal template; overcloud deploy runs containers only`,
            {
              hint: 'include -e <templates>/environments/docker.yaml to use its container definition, or map it to OS::Heat::None',
            },
          );
        }
        host.add(service);
        continue;
      }
      if (!input.templates.has(mapping)) {
        throw new AppError(
          'SERVICE_UNMAPPED',
          `service ${service} (role ${role.name}) maps to ${mapping}, which is not a loaded container definition`,
          {
            hint: 'include the environment that maps it to a docker/services/*.yaml definition, e.g. -e <templates>/environments/docker.yaml',
          },
        );
      }
      list.push(service);
    }
    byRole.set(role.name, list);
  }
  return { byRole, hostServices: [...host].sort() };
}

/** planDeploy computes the whole deployment. Pure: same input, same plan. */
export function planDeploy(input: PlanInput): DeployPlan {
  const { byRole, hostServices } = containerServices(input);
  const nodes = [...input.nodes].sort((a, b) => a.name.localeCompare(b.name));
  const roleNodeAddresses: Record<string, string[]> = {};
  for (const n of nodes) roleNodeAddresses[n.role] = [...(roleNodeAddresses[n.role] ?? []), n.address];
  const left = input.leftOut ?? {};
  // A left-out service is dropped on that node, or replaced by its kernel_fallback (the Linux bridge
  // agent for the Open vSwitch one), which must be mapped to a definition too.
  const servicesOf = (n: InventoryNode): string[] => {
    const out: string[] = [];
    for (const s of byRole.get(n.role) ?? []) {
      const instead = left[n.name]?.[s] === undefined ? s : fallbackOf(input, s);
      if (instead !== undefined && !out.includes(instead)) out.push(instead);
    }
    return out;
  };
  const bootstrapNodes: Record<string, string> = {};
  for (const n of nodes)
    for (const s of servicesOf(n)) if (bootstrapNodes[s] === undefined) bootstrapNodes[s] = n.name;

  const nodePlans = nodes.map((node) => ({
    ...planNode(node, servicesOf(node), input, roleNodeAddresses, bootstrapNodes),
    leftOut: { ...(left[node.name] ?? {}) },
  }));
  return { nodes: nodePlans, hostServices, bootstrapNodes };
}

/** fallbackOf is the mapped kernel_fallback service of a service, if it has one. */
function fallbackOf(input: PlanInput, service: string): string | undefined {
  const fallback = input.templates.get(input.env.resourceRegistry[service] as string)?.kernelFallback;
  if (fallback === undefined) return undefined;
  const mapping = input.env.resourceRegistry[fallback];
  if (mapping === undefined || !input.templates.has(mapping))
    throw new AppError(
      'SERVICE_UNMAPPED',
      `${service} falls back to ${fallback} on nodes without its kernel feature, but ${fallback} maps to no loaded container definition`,
      { hint: `map ${fallback} in an environment file (environments/docker.yaml does)` },
    );
  return fallback;
}

function planNode(
  node: InventoryNode,
  services: string[],
  input: PlanInput,
  roleNodeAddresses: Record<string, string[]>,
  bootstrapNodes: Record<string, string>,
): Omit<NodePlan, 'leftOut'> {
  const volumes = new Map<string, Map<string, RenderedFile & { from: string }>>();
  const kolla = new Map<string, { config: KollaConfig; from: string }>();
  const dirs = new Set<string>();
  const containers: PlannedContainer[] = [];
  const names = new Map<string, string>();
  for (const service of services) {
    const template = input.templates.get(input.env.resourceRegistry[service] as string) as ServiceTemplate;
    const facts: NodeFacts = {
      NodeName: node.name,
      NodeAddress: node.address,
      RoleName: node.role,
      RoleNodeAddresses: roleNodeAddresses,
      BootstrapNodeName: bootstrapNodes[service] ?? node.name,
    };
    const r = renderService(service, template, input.env, input.passwords, facts);
    for (const d of r.hostDirectories) dirs.add(d);
    // Services may share a config volume (nova_libvirt): their files merge, and must not disagree.
    for (const [vol, files] of Object.entries(r.configVolumes)) {
      const merged = volumes.get(vol) ?? new Map();
      volumes.set(vol, merged);
      for (const [path, file] of Object.entries(files)) {
        const prev = merged.get(path);
        if (prev && (prev.content !== file.content || prev.mode !== file.mode)) {
          throw new AppError(
            'TEMPLATE_INVALID',
            `config volume ${vol}: ${path} is rendered differently by ${prev.from} and ${r.path}`,
          );
        }
        merged.set(path, { ...file, from: r.path });
      }
    }
    for (const [path, config] of Object.entries(r.kolla)) {
      const prev = kolla.get(path);
      if (prev && canonicalJson(prev.config) !== canonicalJson(config))
        throw new AppError(
          'TEMPLATE_INVALID',
          `kolla config ${path} is defined differently by ${prev.from} and ${r.path}`,
        );
      kolla.set(path, { config, from: r.path });
    }
    for (const c of r.containers) {
      const other = names.get(c.name);
      if (other !== undefined)
        throw new AppError(
          'TEMPLATE_INVALID',
          `node ${node.name}: container ${c.name} is defined by both ${other} and ${service}`,
        );
      names.set(c.name, service);
      containers.push({
        name: c.name,
        service,
        step: c.step,
        configId: configIdOf(c.step),
        spec: c.spec,
        bootstrap: c.bootstrap,
        configData: '',
      });
    }
  }

  const plannedVolumes: PlannedVolume[] = [...volumes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, files]) => {
      const list = [...files.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([path, f]) => ({ path, content: f.content, mode: f.mode }));
      return { name, files: list, hash: sha(canonicalJson(list)) };
    });
  const plannedKolla: PlannedKolla[] = [...kolla.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, { config }]) => {
      // Pretty-printed with "command" on its own line: kolla_set_configs reads it as JSON.
      const content = `${JSON.stringify(config, null, 2)}\n`;
      return { path, content, hash: sha(content) };
    });

  const hashes = new Map<string, string>();
  for (const v of plannedVolumes) hashes.set(`${CONFIG_DATA_DIR}/${v.name}`, v.hash);
  for (const k of plannedKolla) hashes.set(k.path, k.hash);
  for (const c of containers) {
    if (c.spec.action === 'run') c.spec = withConfigHash(c.spec, hashes);
    c.configData = canonicalJson(c.spec);
  }
  checkExecTargets(node, containers);

  const steps = new Map<number, PlannedContainer[]>();
  for (const step of STEPS) {
    steps.set(
      step,
      containers
        .filter((c) => c.step === step)
        .sort((a, b) => a.spec.start_order - b.spec.start_order || a.name.localeCompare(b.name)),
    );
  }
  const images = [...new Set(containers.flatMap((c) => (c.spec.image ? [c.spec.image] : [])))].sort();
  return {
    node,
    managedBy: managedByOf(node.role),
    services,
    hostDirectories: [...dirs].sort(),
    volumes: plannedVolumes,
    kolla: plannedKolla,
    steps,
    images,
  };
}

/** consumedConfig names the config volumes and kolla files a container mounts. */
export function consumedConfig(spec: ContainerSpec, hashes: ReadonlyMap<string, string>): string[] {
  const used = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const src = v.split(':')[0] ?? '';
    for (const key of hashes.keys()) if (src === key || src.startsWith(`${key}/`)) used.add(key);
  }
  return [...used].sort();
}

/** withConfigHash sets TRIPLEO_CONFIG_HASH from the hashes of everything the container mounts. */
export function withConfigHash(spec: ContainerSpec, hashes: ReadonlyMap<string, string>): ContainerSpec {
  const used = consumedConfig(spec, hashes);
  if (used.length === 0) return spec;
  const hash =
    used.length === 1
      ? (hashes.get(used[0] as string) as string)
      : sha(used.map((k) => `${k}=${hashes.get(k)}`).join('\n'));
  const environment = (spec.environment ?? []).filter((e) => !e.startsWith('TRIPLEO_CONFIG_HASH='));
  environment.push(`TRIPLEO_CONFIG_HASH=${hash}`);
  return { ...spec, environment: environment.sort() };
}

function checkExecTargets(node: InventoryNode, containers: PlannedContainer[]): void {
  for (const c of containers) {
    if (c.spec.action !== 'exec') continue;
    const target = c.spec.command?.[0];
    const t = containers.find((x) => x.name === target && x.spec.action === 'run');
    if (!t || t.step > c.step) {
      throw new AppError(
        'TEMPLATE_INVALID',
        `node ${node.name}: ${c.name} (step ${c.step}) execs into ${target}, which is not a container of this node started at or before step ${c.step}`,
      );
    }
  }
}
