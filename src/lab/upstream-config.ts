/**
 * @module lab/upstream-config
 * tripleo-quickstart's own configuration files (Pike's `config/general_config/*.yml` and
 * `config/nodes/*.yml`: containers_minimal.yml, minimal.yml, pacemaker.yml, ha.yml, ...) turned into
 * our format, so that `quickstart.sh --config` takes them unchanged. Pure: the result is a document
 * in our format (validated by lab/config like any other) plus one warning per key that is accepted
 * but changes nothing here, each naming the file, line and reason.
 *
 * The mapping starts from what config/containers_minimal.yml says (UPSTREAM_BASE): the lab, the
 * images, environments/docker.yaml and the service set with Debian images. On it: the nodes by
 * flavor, environments/docker-ha.yaml for `enable_pacemaker`, and the deploy arguments of
 * `topology` and `extra_args`.
 */
import { isAbsolute } from 'node:path';
import { AppError } from '../errors.js';
import { templatesPath } from '../util/paths.js';
import { where, type YamlFile } from '../util/yaml.js';
import { parseDeployArgs } from './upstream-args.js';
import { kindOf, MAPPED_KEYS, noteFor, type ValueKind, VIRTUAL_BMC } from './upstream-keys.js';

/** Our format's top-level keys: a file with one of them is ours. */
export const OWN_KEYS = ['lab', 'images', 'deploy', 'validate'] as const;

/** The environment TripleO adds for pacemaker with containers (quickstart-extras overcloud-deploy). */
export const HA_ENVIRONMENT = 'environments/docker-ha.yaml';

/**
 * What an upstream file deploys unless it says otherwise: config/containers_minimal.yml's settings
 * (test/quickstart/upstream-config.test.ts holds the two together). The HA environment goes after
 * docker.yaml, as upstream orders them; the service set after both.
 */
export const UPSTREAM_BASE = {
  environments: ['environments/docker.yaml', 'environments/containers-minimal.yaml'],
  healthTimeout: 300,
  driver: 'ansible',
  /** config/nodes/1ctlr_1comp.yml, when the file lists no nodes */
  nodes: [
    { role: 'Controller', count: 1 },
    { role: 'Compute', count: 1 },
  ],
} as const;

/** tripleo-quickstart's flavors (roles/common defaults `flavors:`) -> the role they deploy (quickstart-extras' flavor_args). */
export const FLAVOR_ROLES: Record<string, string> = {
  control: 'Controller',
  compute: 'Compute',
  ceph: 'CephStorage',
  blockstorage: 'BlockStorage',
  objectstorage: 'ObjectStorage',
};

const NODE_KEYS = new Set(['name', 'flavor', 'virtualbmc_port']);

export interface Translation {
  /** A document in our format. */
  doc: Record<string, unknown>;
  /** `file:line: key: accepted, not applied here: why` */
  warnings: string[];
}

/** isUpstream tells a tripleo-quickstart file from ours by its keys. */
export function isUpstream(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.some((k) => (OWN_KEYS as readonly string[]).includes(k))) return false;
  const nodes = (value as Record<string, unknown>).overcloud_nodes;
  const upstreamNodes =
    Array.isArray(nodes) &&
    nodes.some((n) => n !== null && typeof n === 'object' && ('flavor' in n || 'name' in n));
  return (
    upstreamNodes ||
    keys.some(
      (k) => k !== 'overcloud_nodes' && k !== 'containerized_overcloud' && (MAPPED_KEYS.has(k) || noteFor(k)),
    )
  );
}

/**
 * translateUpstream maps a tripleo-quickstart file onto our format; `cwd` resolves relative paths.
 * `nodes` is quickstart.sh's `--nodes FILE`: read first, the config's keys override its keys (as
 * quickstart.sh passes `-e @nodes -e @config` to Ansible), and each key's line is in its own file.
 */
export function translateUpstream(file: YamlFile, cwd: string, nodes?: YamlFile): Translation {
  const sources = new Map<string, YamlFile>();
  const top: Record<string, unknown> = {};
  for (const f of nodes === undefined ? [file] : [nodes, file])
    for (const [key, value] of Object.entries(f.value as Record<string, unknown>)) {
      top[key] = value;
      sources.set(key, f);
    }
  const t = new Translator(file, sources, cwd);
  for (const [key, value] of Object.entries(top)) t.key(key, value);
  return t.finish('overcloud_nodes' in top);
}

class Translator {
  private readonly warnings: string[] = [];
  private nodes: { role: string; count: number; line: string }[] = [];
  private readonly envs: string[] = [];
  private readonly params: Record<string, unknown> = {};
  private readonly scales: { role: string; count: number; at: string }[] = [];
  private rolesFile?: string;
  private ha = false;
  private validate = true;
  private containerizedSet = false;

  constructor(
    private readonly file: YamlFile,
    /** top-level key -> the file it comes from (the config, or the --nodes file) */
    private readonly sources: ReadonlyMap<string, YamlFile>,
    private readonly cwd: string,
  ) {}

  private at(path: (string | number)[]): string {
    return where(this.sources.get(String(path[0])) ?? this.file, path);
  }

  private fail(path: (string | number)[], message: string, hint?: string): never {
    throw new AppError('QUICKSTART_CONFIG_INVALID', `${this.at(path)}: ${message}`, {
      hint: hint ?? 'docs/quickstart-configs.md lists the tripleo-quickstart keys this build reads',
    });
  }

  private expect(key: string, value: unknown, kind: ValueKind): void {
    const found = kindOf(value);
    if (kind !== 'any' && found !== kind)
      this.fail([key], `${key}: expected a ${kind}, found ${found === 'null' ? 'nothing' : `a ${found}`}`);
  }

  private note(path: (string | number)[], what: string, why: string): void {
    this.warnings.push(`${this.at(path)}: ${what}: accepted, not applied here: ${why}`);
  }

  key(key: string, value: unknown): void {
    switch (key) {
      case 'overcloud_nodes':
        this.overcloudNodes(value);
        return;
      case 'containerized_overcloud':
        this.expect(key, value, 'boolean');
        if (value !== true)
          this.fail(
            [key],
            'containerized_overcloud: only a containerized overcloud is supported: set it to true',
          );
        this.containerizedSet = true;
        return;
      case 'enable_pacemaker':
        this.expect(key, value, 'boolean');
        this.ha = value === true;
        return;
      case 'extra_args':
      case 'topology':
        this.deployArgs(key, value);
        return;
      case 'step_validate_overcloud':
        this.expect(key, value, 'boolean');
        this.validate = value === true;
        return;
      case 'test_ping':
        this.expect(key, value, 'boolean');
        if (value === true)
          this.note(
            [key],
            'test_ping',
            "validate has no ping test: the lab's nova-compute runs the fake driver, so no guest answers a ping; validate's own checks (server ACTIVE on the compute node, its port bound) run instead",
          );
        return;
      case 'run_tempest':
      case 'tempest_config':
        this.expect(key, value, 'boolean');
        if (value === true)
          this.note([key], key, 'this build has no `validate --tempest` yet; validate runs its own checks');
        return;
      case 'tempest_workers':
        this.expect(key, value, 'number');
        this.note([key], key, 'this build has no `validate --tempest` yet, so there are no tempest workers');
        return;
    }
    const noted = noteFor(key);
    if (!noted)
      this.fail(
        [key],
        `${key}: not a tripleo-quickstart key this build knows`,
        'check the spelling; docs/quickstart-configs.md lists the keys read (mapped or accepted with a warning)',
      );
    this.expect(key, value, noted.kind);
    if (noted.asks === undefined || noted.asks(value)) this.note([key], key, noted.why);
  }

  private overcloudNodes(value: unknown): void {
    if (!Array.isArray(value) || value.length === 0)
      this.fail(['overcloud_nodes'], 'overcloud_nodes: expected a list of nodes (name, flavor)');
    const names = new Set<string>();
    const groups = new Map<string, { role: string; count: number; line: string }>();
    let bmc: number | undefined;
    value.forEach((node: unknown, i) => {
      const path = ['overcloud_nodes', i];
      if (node === null || typeof node !== 'object' || Array.isArray(node))
        this.fail(path, `overcloud_nodes.${i}: expected a node (name, flavor)`);
      const n = node as Record<string, unknown>;
      for (const k of Object.keys(n))
        if (!NODE_KEYS.has(k))
          this.fail(
            [...path, k],
            `overcloud_nodes.${i}.${k}: not a node key (known: ${[...NODE_KEYS].join(', ')})`,
          );
      if (typeof n.name !== 'string' || n.name === '')
        this.fail([...path, 'name'], `overcloud_nodes.${i}.name: expected a node name`);
      if (names.has(n.name))
        this.fail([...path, 'name'], `overcloud_nodes.${i}.name: ${n.name} is listed twice`);
      names.add(n.name);
      const flavor = n.flavor;
      const role = typeof flavor === 'string' ? FLAVOR_ROLES[flavor] : undefined;
      if (role === undefined)
        this.fail(
          [...path, 'flavor'],
          `overcloud_nodes.${i}.flavor: ${flavor === undefined ? 'missing' : JSON.stringify(flavor)}: expected one of ${Object.keys(FLAVOR_ROLES).join(', ')}`,
          flavor === 'undercloud'
            ? 'the undercloud flavor is for the undercloud and supplemental nodes; the lab makes the undercloud itself'
            : undefined,
        );
      if (n.virtualbmc_port !== undefined) {
        if (!Number.isInteger(n.virtualbmc_port))
          this.fail(
            [...path, 'virtualbmc_port'],
            `overcloud_nodes.${i}.virtualbmc_port: expected a port number`,
          );
        bmc ??= i;
      }
      const g = groups.get(role) ?? { role, count: 0, line: this.at(path) };
      g.count++;
      groups.set(role, g);
    });
    if (bmc !== undefined)
      this.note(
        ['overcloud_nodes', bmc, 'virtualbmc_port'],
        'virtualbmc_port (overcloud_nodes)',
        VIRTUAL_BMC,
      );
    this.nodes = [...groups.values()];
  }

  private deployArgs(key: string, value: unknown): void {
    if (value === null || value === '') return;
    this.expect(key, value, 'string');
    const r = parseDeployArgs(value as string, this.cwd);
    if (typeof r === 'string') this.fail([key], `${key}: ${r}`);
    this.envs.push(...r.environments);
    Object.assign(this.params, r.parameters);
    for (const [role, count] of Object.entries(r.scales))
      this.scales.push({ role, count, at: this.at([key]) });
    if (r.rolesFile !== undefined)
      this.rolesFile = isAbsolute(r.rolesFile) ? r.rolesFile : templatesPath(r.rolesFile);
    for (const n of r.notes)
      this.warnings.push(`${this.at([key])}: ${key} ${n.replace(/: /, ': accepted, not applied here: ')}`);
  }

  finish(listsNodes: boolean): Translation {
    if (!this.containerizedSet)
      this.warnings.push(
        `${this.file.path}: containerized_overcloud is not set (tripleo-quickstart's default, false, deploys the overcloud on the hosts with puppet): deploying it containerized, as this build always does`,
      );
    // Without overcloud_nodes, quickstart.sh's default --nodes file: config/nodes/1ctlr_1comp.yml.
    const nodes: { role: string; count: number }[] = listsNodes
      ? this.nodes.map(({ role, count }) => ({ role, count }))
      : UPSTREAM_BASE.nodes.map((n) => ({ ...n }));
    // --<role>-scale sets the role's count, as it sets <Role>Count upstream; the lab can only
    // deploy nodes that overcloud_nodes lists.
    for (const s of this.scales) {
      const g = nodes.find((n) => n.role === s.role);
      const have = g?.count ?? 0;
      if (s.count > have)
        throw new AppError(
          'QUICKSTART_CONFIG_INVALID',
          `${s.at}: asks for ${s.count} ${s.role} node(s), overcloud_nodes lists ${have}`,
          { hint: `add ${s.role} nodes (flavor ${flavorOf(s.role)}) to overcloud_nodes, or lower the scale` },
        );
      if (g) g.count = s.count;
    }
    const environments = [
      UPSTREAM_BASE.environments[0],
      ...(this.ha ? [HA_ENVIRONMENT] : []),
      ...UPSTREAM_BASE.environments.slice(1),
      ...this.envs.filter((e) => !UPSTREAM_BASE.environments.includes(e as never) && e !== HA_ENVIRONMENT),
    ];
    return {
      doc: {
        containerized_overcloud: true,
        overcloud_nodes: nodes,
        deploy: {
          environments,
          ...(Object.keys(this.params).length > 0 ? { parameter_defaults: this.params } : {}),
          ...(this.rolesFile === undefined ? {} : { roles_file: this.rolesFile }),
          health_timeout: UPSTREAM_BASE.healthTimeout,
          driver: UPSTREAM_BASE.driver,
        },
        validate: this.validate,
      },
      warnings: this.warnings,
    };
  }
}

function flavorOf(role: string): string {
  return Object.entries(FLAVOR_ROLES).find(([, r]) => r === role)?.[0] ?? role.toLowerCase();
}
