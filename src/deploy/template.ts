/**
 * @module deploy/template
 * Container service definitions (`docker/services/*.yaml`): the file format, parsed and checked before
 * any intrinsic function is evaluated. Values may hold intrinsics; their shapes are checked after
 * evaluation (deploy/render). The format is documented in templates/docker/services/README.md.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { loadYamlFile, where, type YamlFile } from '../util/yaml.js';

const ParameterSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean', 'json', 'comma_delimited_list']).optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
  /** hidden: a secret. Without a value in the environment it is generated once into the passwords file. */
  hidden: z.boolean().optional(),
});

const StepMap = z.record(
  z.string().regex(/^step_[1-5]$/, 'steps are step_1 .. step_5'),
  z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a valid container name'), z.unknown()),
);

const TemplateSchema = z.strictObject({
  heat_template_version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  service_name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower case letters, digits and _'),
  parameters: z.record(z.string(), ParameterSchema).optional(),
  conditions: z.record(z.string(), z.unknown()).optional(),
  host_directories: z.unknown().optional(),
  config_volumes: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.unknown()).optional(),
  kolla_config: z.record(z.string().startsWith('/'), z.unknown()).optional(),
  docker_config: StepMap.optional(),
  bootstrap_config: StepMap.optional(),
  kernel_requirements: z
    .array(
      z.strictObject({
        feature: z.string().min(1),
        check: z.string().min(1),
      }),
    )
    .optional(),
  kernel_fallback: z.string().startsWith('OS::TripleO::Services::').optional(),
  /** The agent binary Neutron lists for this service: deploy waits until it is alive on the node. */
  network_agent: z
    .string()
    .regex(/^neutron-[a-z0-9-]+$/, 'the binary `network agent list` shows, e.g. neutron-dhcp-agent')
    .optional(),
  /** TripleO's key: a compute service; deploy waits until it is up, mapped to a cell and listed. */
  cellv2_discovery: z.boolean().optional(),
});

export type ParameterDecl = z.infer<typeof ParameterSchema>;

export interface ServiceTemplate {
  path: string;
  serviceName: string;
  parameters: Record<string, ParameterDecl>;
  conditions: Record<string, unknown>;
  hostDirectories: unknown;
  configVolumes: Record<string, unknown>;
  kollaConfig: Record<string, unknown>;
  dockerConfig: Record<string, Record<string, unknown>>;
  bootstrapConfig: Record<string, Record<string, unknown>>;
  /** Kernel features the node must have (a POSIX sh check each); without one the service is left out there. */
  kernelRequirements: KernelRequirement[];
  /** The service that runs in this one's place on a node that lacks a required kernel feature. */
  kernelFallback?: string;
  /** What deploy waits for before it reports success (see deploy/readiness). */
  readiness: { networkAgent?: string; cellv2Discovery: boolean };
}

export interface KernelRequirement {
  /** What the kernel lacks when the check fails, for the operator (e.g. "iSCSI initiator (iscsi_tcp)"). */
  feature: string;
  /** POSIX sh, run on the node: exit 0 when the feature is there. */
  check: string;
}

/** parseServiceTemplate validates the top-level structure of one parsed definition. Pure. */
export function parseServiceTemplate(file: YamlFile): ServiceTemplate {
  const parsed = TemplateSchema.safeParse(file.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    const key = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    throw new AppError(
      'TEMPLATE_INVALID',
      `${where(file, path)}: container service definition${path.length ? ` field ${path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}${key}`,
      { hint: 'see templates/docker/services/README.md for the format' },
    );
  }
  const t = parsed.data;
  return {
    path: file.path,
    serviceName: t.service_name,
    parameters: t.parameters ?? {},
    conditions: t.conditions ?? {},
    hostDirectories: t.host_directories ?? [],
    configVolumes: t.config_volumes ?? {},
    kollaConfig: t.kolla_config ?? {},
    dockerConfig: t.docker_config ?? {},
    bootstrapConfig: t.bootstrap_config ?? {},
    kernelRequirements: t.kernel_requirements ?? [],
    ...(t.kernel_fallback ? { kernelFallback: t.kernel_fallback } : {}),
    readiness: {
      ...(t.network_agent === undefined ? {} : { networkAgent: t.network_agent }),
      cellv2Discovery: t.cellv2_discovery === true,
    },
  };
}

/** loadServiceTemplate reads and validates one definition file. */
export async function loadServiceTemplate(path: string): Promise<ServiceTemplate> {
  return parseServiceTemplate(await loadYamlFile(path, 'container service definition'));
}
