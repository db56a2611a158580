/**
 * @module lab/config
 * The quickstart configuration file: our own YAML format, modelled on tripleo-quickstart's
 * `config/general_config/containers_minimal.yml` (nodes per role, the deploy's environments), plus the
 * lab's network and folders. Parsing is pure and every error names the file and line.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { loadYamlFile, parseYaml, where, type YamlFile } from '../util/yaml.js';
import { isUpstream, OWN_KEYS, translateUpstream } from './upstream-config.js';
import { MAPPED_KEYS, noteFor } from './upstream-keys.js';

export interface NodeGroup {
  role: string;
  count: number;
}

export interface QuickstartConfig {
  /** The file it came from (for messages and relative paths). */
  path: string;
  lab: {
    /** The lab network, a /24 to /28 IPv4 block that must exist nowhere else. */
    subnet: string;
    /** Short prefix of every namespace, interface and process this lab owns. */
    name: string;
    /** Where the lab keeps its state: keys, node storage, registries, deploy state. */
    dir: string;
    /** Host folders each node sees as its own (bound in the node's private mount namespace). */
    nodeDirs: string[];
  };
  nodes: NodeGroup[];
  images: { namespace: string; prefix: string; tag: string; parallel: number };
  deploy: {
    /** Templates folder; undefined: the shipped templates. */
    templates?: string;
    rolesFile?: string;
    /** -e files, relative to the templates folder unless absolute, in order. */
    environments: string[];
    /** Written into the quickstart's own environment file, after `environments`. */
    parameterDefaults: Record<string, unknown>;
    healthTimeoutS: number;
    /** ansible: `deploy --config-download` (TripleO's config-download); ssh: the engine's own SSH runner. */
    driver: 'ansible' | 'ssh';
  };
  /** Stop after deploy when false; `overcloud validate` runs when true (and exists). */
  validate: boolean;
  /** The file's format: ours, or tripleo-quickstart's own (lab/upstream-config maps it). */
  format?: 'overcloud' | 'tripleo-quickstart';
  /** What of a tripleo-quickstart file is accepted but not applied, one line per key (file:line: why). */
  warnings?: string[];
}

const NAME = /^[a-z][a-z0-9]{0,5}$/;
const ABS = z.string().refine((p) => isAbsolute(p), 'must be an absolute path');

const Schema = z.strictObject({
  containerized_overcloud: z.literal(true, 'only a containerized overcloud is supported: set it to true'),
  lab: z
    .strictObject({
      subnet: z.string().optional(),
      name: z.string().regex(NAME, 'a lowercase letter then up to 5 letters or digits').optional(),
      dir: ABS.optional(),
      node_dirs: z.array(ABS).optional(),
    })
    .optional(),
  overcloud_nodes: z
    .array(
      z.strictObject({
        role: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'a role name'),
        count: z.number().int().min(0).max(20),
      }),
    )
    .min(1),
  images: z
    .strictObject({
      namespace: z
        .string()
        .regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, 'one lowercase path component')
        .optional(),
      prefix: z
        .string()
        .regex(/^[a-z0-9._-]*$/, 'lowercase letters, digits, . _ -')
        .optional(),
      tag: z
        .string()
        .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'an image tag')
        .optional(),
      parallel: z.number().int().min(1).max(16).optional(),
    })
    .optional(),
  deploy: z
    .strictObject({
      templates: z.string().optional(),
      roles_file: z.string().optional(),
      environments: z.array(z.string()).optional(),
      parameter_defaults: z.record(z.string(), z.unknown()).optional(),
      health_timeout: z.number().int().min(1).optional(),
      driver: z.enum(['ansible', 'ssh']).optional(),
    })
    .optional(),
  validate: z.boolean().optional(),
});

/**
 * Each node gets its own /var/lib and /var/log: whatever a service template mounts from there
 * (config-data, kolla config files, logs, database files) is the node's, and no mount point has to
 * be created on this machine (where another lab could remove it under us).
 */
export const DEFAULT_NODE_DIRS = ['/var/lib', '/var/log'];

/** parseSubnet checks an IPv4 CIDR block with /16../28 and returns its network address and length. */
export function parseSubnet(text: string): { base: number; bits: number } | string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return 'expected an IPv4 block like 10.231.24.0/24';
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return 'an octet is above 255';
  const bits = Number(m[5]);
  if (bits < 16 || bits > 28) return 'the prefix length must be between /16 and /28';
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  if (addr % size !== 0) return `host bits are set: did you mean ${formatIp(addr - (addr % size))}/${bits}?`;
  const first = octets[0] as number;
  const private_ =
    first === 10 ||
    (first === 172 && (octets[1] as number) >= 16 && (octets[1] as number) < 32) ||
    (first === 192 && octets[1] === 168);
  // A lab on public addresses would shadow real hosts for this machine: refuse it.
  if (!private_) return 'the lab subnet must be private (10/8, 172.16/12 or 192.168/16)';
  return { base: addr, bits };
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * parseConfig validates a parsed config file, in our format or tripleo-quickstart's (recognised by
 * its keys and mapped onto ours first). Pure: paths are resolved against `cwd`.
 */
export function parseConfig(file: YamlFile, cwd: string, nodes?: YamlFile): QuickstartConfig {
  if (nodes !== undefined) checkNodesFile(file, nodes);
  if (!isUpstream(file.value)) return { ...parseOwn(file, cwd), format: 'overcloud', warnings: [] };
  const t = translateUpstream(file, cwd, nodes);
  const config = parseOwn({ ...file, value: t.doc }, cwd);
  return { ...config, format: 'tripleo-quickstart', warnings: t.warnings };
}

/** checkNodesFile: quickstart.sh's --nodes goes with a tripleo-quickstart config, and is one itself. */
function checkNodesFile(file: YamlFile, nodes: YamlFile): void {
  const isMap = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(nodes.value) || !isUpstream(nodes.value))
    throw new AppError(
      'QUICKSTART_CONFIG_INVALID',
      `${nodes.path}: not a tripleo-quickstart nodes file (overcloud_nodes by name and flavor, as config/nodes/*.yml)`,
    );
  if (isMap(file.value) && !isUpstream(file.value))
    throw new AppError(
      'QUICKSTART_CONFIG_INVALID',
      `${file.path}: --nodes ${nodes.path} goes with a tripleo-quickstart config; this one is in our format`,
      { hint: 'list the nodes in the config itself: overcloud_nodes: [{role, count}]' },
    );
}

/** invalid turns the schema's first issue into an error naming the file, line and field. */
function invalid(file: YamlFile, error: z.ZodError): AppError {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
  const field = path.length > 0 ? path.join('.') : '(top level)';
  if (issue?.code === 'unrecognized_keys') {
    // Point at the (first) unknown key itself, not at the mapping that holds it.
    const key = issue.keys[0] ?? '';
    const upstream = path.length === 0 && (MAPPED_KEYS.has(key) || noteFor(key) !== undefined);
    return new AppError(
      'QUICKSTART_CONFIG_INVALID',
      `${where(file, [...path, key])}: ${field}: unknown key ${JSON.stringify(key)}${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : ''}`,
      {
        hint: upstream
          ? `${key} is a tripleo-quickstart key, and this file is in our format (it has ${OWN_KEYS.filter((k) => k in (file.value as object)).join(', ')}): write one format per file (docs/quickstart-configs.md)`
          : 'see config/containers_minimal.yml for the format',
      },
    );
  }
  return new AppError('QUICKSTART_CONFIG_INVALID', `${where(file, path)}: ${field}: ${issue?.message}`, {
    hint: 'see config/containers_minimal.yml for the format',
  });
}

/** parseOwn validates a document in our format. */
function parseOwn(file: YamlFile, cwd: string): QuickstartConfig {
  const r = Schema.safeParse(file.value ?? {});
  if (!r.success) throw invalid(file, r.error);
  const d = r.data;
  const subnet = d.lab?.subnet ?? '10.231.24.0/24';
  const parsed = parseSubnet(subnet);
  if (typeof parsed === 'string')
    throw new AppError(
      'QUICKSTART_CONFIG_INVALID',
      `${where(file, ['lab', 'subnet'])}: lab.subnet: ${parsed}`,
    );
  const roles = new Set<string>();
  d.overcloud_nodes.forEach((g, i) => {
    if (roles.has(g.role))
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${where(file, ['overcloud_nodes', i, 'role'])}: role ${g.role} is listed twice`,
      );
    roles.add(g.role);
  });
  if (d.overcloud_nodes.every((g) => g.count === 0))
    throw new AppError('QUICKSTART_CONFIG_INVALID', `${where(file, ['overcloud_nodes'])}: no node at all`);
  const labDir = d.lab?.dir ?? '/var/tmp/overcloud-quickstart';
  const nodeDirs = d.lab?.node_dirs ?? DEFAULT_NODE_DIRS;
  for (const nd of nodeDirs) {
    // The nodes read their podman settings from the lab folder: it must stay visible inside them.
    if (labDir === nd || labDir.startsWith(`${nd.replace(/\/$/, '')}/`))
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${where(file, ['lab', 'dir'])}: lab.dir ${labDir} is inside node folder ${nd}, which each node replaces with its own`,
      );
  }
  const fromCwd = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : resolve(cwd, p);
  return {
    path: file.path,
    lab: {
      subnet,
      name: d.lab?.name ?? 'ocq',
      dir: labDir,
      nodeDirs,
    },
    nodes: d.overcloud_nodes,
    images: {
      namespace: d.images?.namespace ?? 'tripleoupstream',
      prefix: d.images?.prefix ?? 'debian-binary-',
      tag: d.images?.tag ?? 'latest',
      parallel: d.images?.parallel ?? 3,
    },
    deploy: {
      ...(d.deploy?.templates === undefined ? {} : { templates: fromCwd(d.deploy.templates) }),
      ...(d.deploy?.roles_file === undefined ? {} : { rolesFile: fromCwd(d.deploy.roles_file) }),
      environments: d.deploy?.environments ?? ['environments/docker.yaml'],
      parameterDefaults: d.deploy?.parameter_defaults ?? {},
      healthTimeoutS: d.deploy?.health_timeout ?? 180,
      driver: d.deploy?.driver ?? 'ansible',
    },
    validate: d.validate ?? true,
  };
}

/**
 * configDocument is the configuration in our format, every default written out: what
 * `quickstart --print-config` shows, and a file `--config` reads back to the same configuration.
 */
export function configDocument(config: QuickstartConfig): Record<string, unknown> {
  const d = config.deploy;
  return {
    containerized_overcloud: true,
    lab: {
      subnet: config.lab.subnet,
      name: config.lab.name,
      dir: config.lab.dir,
      node_dirs: config.lab.nodeDirs,
    },
    overcloud_nodes: config.nodes.map((n) => ({ role: n.role, count: n.count })),
    images: { ...config.images },
    deploy: {
      ...(d.templates === undefined ? {} : { templates: d.templates }),
      ...(d.rolesFile === undefined ? {} : { roles_file: d.rolesFile }),
      environments: d.environments,
      parameter_defaults: d.parameterDefaults,
      health_timeout: d.healthTimeoutS,
      driver: d.driver,
    },
    validate: config.validate,
  };
}

/** parseConfigText parses config text (tests, and the file reader below). */
export function parseConfigText(text: string, path: string, cwd: string): QuickstartConfig {
  return parseConfig(parseYaml(text, path), cwd);
}

/** loadConfig reads and validates a config file (and quickstart.sh's --nodes file, if given). */
export async function loadConfig(
  path: string,
  cwd = process.cwd(),
  nodesPath?: string,
): Promise<QuickstartConfig> {
  const nodes = nodesPath === undefined ? undefined : await loadYamlFile(nodesPath, 'nodes file');
  return parseConfig(await loadYamlFile(path, 'quickstart config'), cwd, nodes);
}
