/**
 * @module lab/upstream-keys
 * The tripleo-quickstart (Pike) configuration keys that `quickstart --config` accepts besides those it
 * maps (lab/upstream-config): what each one is for upstream, and why it changes nothing here. The
 * reasons are printed, one warning per key, so an operator sees what of their file is not applied.
 * A key in neither list is an error: a typo must not be silently ignored.
 */

/** The keys lab/upstream-config turns into our configuration. */
export const MAPPED_KEYS = new Set([
  'overcloud_nodes',
  'containerized_overcloud',
  'enable_pacemaker',
  'extra_args',
  'topology',
  'test_ping',
  'run_tempest',
  'tempest_config',
  'tempest_workers',
  'step_validate_overcloud',
]);

export type ValueKind = 'boolean' | 'number' | 'string' | 'list' | 'map' | 'any';

export interface NotedKey {
  kind: ValueKind;
  /** Why it is not applied here. */
  why: string;
  /** Whether the value asks for something (a false feature switch matches what the lab does anyway). */
  asks?: (value: unknown) => boolean;
}

const truthy = (v: unknown): boolean => v === true;

const NO_VMS =
  'the nodes are network namespaces on this host, sharing its memory, CPUs and disk (no virtual machines to size)';
const FLAT =
  'the lab has one flat network (the lab subnet); this kernel has no 802.1Q VLANs for isolated networks';
const NO_TLS =
  'the lab serves its endpoints over plain HTTP on the lab network; TLS is not part of this build';
const NO_TEMPEST =
  "this build's validate runs no tempest; its own checks (token, catalogue, image, network, server, stack, horizon) run instead";
const TEMPLATES =
  "the shipped templates (templates/) are deployed; our format's deploy.templates names another folder";
const LOGS = `tripleo-collect-logs is not part of this build; every stage's full output is in <lab dir>/logs`;
const VALIDATIONS = 'tripleo-validations (run through Mistral) is not part of this build';
const MULTINODE = 'multinode CI deploys onto pre-provisioned servers; the lab makes its own nodes';

/** Keys accepted with a warning, by name. */
export const NOTED_KEYS: ReadonlyMap<string, NotedKey> = new Map<string, NotedKey>([
  ['network_isolation', { kind: 'boolean', why: FLAT, asks: truthy }],
  ['network_isolation_type', { kind: 'string', why: FLAT }],
  ['network_isolation_args', { kind: 'string', why: FLAT }],
  ['overcloud_ipv6', { kind: 'boolean', why: 'the lab network is IPv4 only', asks: truthy }],
  ['ssl_overcloud', { kind: 'boolean', why: NO_TLS, asks: truthy }],
  ['undercloud_generate_service_certificate', { kind: 'boolean', why: NO_TLS, asks: truthy }],
  ['enable_tls_everywhere', { kind: 'boolean', why: NO_TLS, asks: truthy }],
  [
    'telemetry_args',
    {
      kind: 'string',
      why: 'the deployed service set (environments/containers-minimal.yaml) has no telemetry services to disable',
    },
  ],
  [
    'step_introspect',
    {
      kind: 'boolean',
      why: 'no introspection: the lab knows its nodes (namespaces it made), there is no hardware to inspect',
      asks: truthy,
    },
  ],
  ['node_count', { kind: 'number', why: 'the lab makes the nodes that overcloud_nodes lists' }],
  ['enable_vbmc', { kind: 'boolean', why: 'no virtual BMC: the lab powers its nodes itself, not over IPMI' }],
  ['supplemental_node', { kind: 'map', why: 'no supplemental node (e.g. FreeIPA) in the lab' }],
  [
    'deploy_supplemental_node',
    { kind: 'boolean', why: 'no supplemental node (e.g. FreeIPA) in the lab', asks: truthy },
  ],
  ['deployed_server_overcloud_roles', { kind: 'list', why: MULTINODE }],
  ['deploy_multinode', { kind: 'boolean', why: MULTINODE, asks: truthy }],
  ['overcloud_templates_path', { kind: 'string', why: TEMPLATES }],
  ['overcloud_templates_repo', { kind: 'string', why: TEMPLATES }],
  ['overcloud_templates_branch', { kind: 'string', why: TEMPLATES }],
  ['overcloud_templates_refspec', { kind: 'string', why: TEMPLATES }],
  ['run_tripleo_validations', { kind: 'boolean', why: VALIDATIONS, asks: truthy }],
  ['run_tripleo_validations_negative_tests', { kind: 'boolean', why: VALIDATIONS, asks: truthy }],
  ['exit_on_validations_failure', { kind: 'boolean', why: VALIDATIONS, asks: truthy }],
  ['tempest_whitelist', { kind: 'list', why: NO_TEMPEST }],
  ['test_regex', { kind: 'string', why: NO_TEMPEST }],
  ['tempest_regex', { kind: 'string', why: NO_TEMPEST }],
  ['tempest_plugins', { kind: 'list', why: NO_TEMPEST }],
  ['tempest_extra_config', { kind: 'map', why: NO_TEMPEST }],
  ['test_tempest', { kind: 'boolean', why: NO_TEMPEST, asks: truthy }],
  [
    'release',
    {
      kind: 'string',
      why: "the build deploys its own Pike-shaped templates with Debian 12's OpenStack packages",
      asks: (v) => v !== 'pike',
    },
  ],
]);

/** Sizing keys (`<flavor>_memory`, `_vcpu`, `_disk`, and their defaults), accepted with one reason. */
const SIZING = /^(control|compute|ceph|block|objectstorage|undercloud|default)_(memory|vcpu|disk)$/;

/** noteFor tells whether `key` is accepted-not-applied, and how. */
export function noteFor(key: string): NotedKey | undefined {
  const known = NOTED_KEYS.get(key);
  if (known) return known;
  if (SIZING.test(key)) return { kind: 'number', why: NO_VMS };
  // tripleo-collect-logs' settings all live under its artcl_ prefix.
  if (key.startsWith('artcl_')) return { kind: 'any', why: LOGS };
  return undefined;
}

/** The reason for `virtualbmc_port` on overcloud nodes. */
export const VIRTUAL_BMC = 'no virtual BMC: the lab powers its nodes itself, not over IPMI';

/** kindOf names the YAML kind of a value, for "expected X, found Y" messages. */
export function kindOf(value: unknown): ValueKind | 'null' {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return typeof value as ValueKind;
  return 'any';
}
