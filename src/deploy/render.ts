/**
 * @module deploy/render
 * Evaluates one container service definition for one node: parameters from the merged environment
 * (then generated passwords, then the template's defaults, plus a few built-in node parameters),
 * intrinsic functions, then checks the shapes of what came out. Pure.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Environment } from '../heat/environment.js';
import { evaluate, evaluateCondition, type IntrinsicScope } from './intrinsics.js';
import { type ContainerSpec, ContainerSpecSchema, normaliseSpec } from './spec.js';
import type { ParameterDecl, ServiceTemplate } from './template.js';

/** What a definition may ask about the node it is rendered for, without declaring it. */
export interface NodeFacts {
  NodeName: string;
  NodeAddress: string;
  RoleName: string;
  /** Role name -> addresses of that role's nodes, sorted by node name. */
  RoleNodeAddresses: Record<string, string[]>;
  /** The first node (by name) that runs this service: where bootstrap_config runs. */
  BootstrapNodeName: string;
}

export const BUILTIN_PARAMETERS = [
  'NodeName',
  'NodeAddress',
  'RoleName',
  'RoleNodeAddresses',
  'BootstrapNodeName',
] as const;

const FileSchema = z.strictObject({
  content: z.string(),
  mode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'an octal mode such as 0640')
    .optional(),
});
const VolumeSchema = z.strictObject({
  files: z.record(z.string().regex(/^\/.+/, 'an absolute path'), FileSchema),
});
const KollaSchema = z.strictObject({
  command: z.string().min(1),
  config_files: z
    .array(
      z.strictObject({
        source: z.string(),
        dest: z.string(),
        owner: z.string().optional(),
        perm: z.string().optional(),
        optional: z.boolean().optional(),
        merge: z.boolean().optional(),
        preserve_properties: z.boolean().optional(),
      }),
    )
    .optional(),
  permissions: z
    .array(
      z.strictObject({
        path: z.string(),
        owner: z.string(),
        perm: z.string().optional(),
        recurse: z.boolean().optional(),
      }),
    )
    .optional(),
});

export type KollaConfig = z.infer<typeof KollaSchema>;
export interface RenderedFile {
  content: string;
  mode: string;
}

export interface RenderedContainer {
  step: number;
  name: string;
  spec: ContainerSpec;
  /** From bootstrap_config: runs on the service's bootstrap node only. */
  bootstrap: boolean;
}

export interface RenderedService {
  service: string;
  serviceName: string;
  path: string;
  hostDirectories: string[];
  /** Config volume name -> path inside the volume -> file. */
  configVolumes: Record<string, Record<string, RenderedFile>>;
  /** Absolute path of a kolla config.json on the node -> its content. */
  kolla: Record<string, KollaConfig>;
  containers: RenderedContainer[];
}

/** parameterValue looks a parameter up: environment, then passwords (hidden only), then default. */
export function parameterValue(
  name: string,
  decl: ParameterDecl,
  env: Environment,
  passwords: Record<string, string>,
): unknown {
  if (name in env.parameters) return env.parameters[name];
  if (name in env.parameterDefaults) return env.parameterDefaults[name];
  if (decl.hidden && name in passwords) return passwords[name];
  return decl.default;
}

/** missingPasswords lists the hidden parameters of a definition that have no value yet. Pure. */
export function missingPasswords(
  template: ServiceTemplate,
  env: Environment,
  passwords: Record<string, string>,
): string[] {
  return Object.entries(template.parameters)
    .filter(([name, decl]) => decl.hidden && parameterValue(name, decl, env, passwords) === undefined)
    .map(([name]) => name);
}

function coerce(name: string, decl: ParameterDecl, value: unknown, where: string): unknown {
  const bad = (): never => {
    throw new AppError(
      'TEMPLATE_INVALID',
      `${where}: parameter ${name} must be a ${decl.type}, got ${JSON.stringify(value)}`,
    );
  };
  switch (decl.type) {
    case 'number':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
      return bad();
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'True') return true;
      if (value === 'false' || value === 'False') return false;
      return bad();
    case 'comma_delimited_list':
      if (Array.isArray(value)) return value.map(String);
      if (typeof value === 'string') return value.split(',').map((s) => s.trim());
      return bad();
    case 'string':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return bad();
    default:
      return value;
  }
}

function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const keys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
  throw new AppError(
    'TEMPLATE_INVALID',
    `${where}${path ? `.${path}` : ''}: ${issue?.message ?? 'invalid'}${keys}`,
    {
      hint: 'see templates/docker/services/README.md for the format',
    },
  );
}

/** renderService evaluates a definition for one node. */
export function renderService(
  service: string,
  template: ServiceTemplate,
  env: Environment,
  passwords: Record<string, string>,
  facts: NodeFacts,
): RenderedService {
  const where = template.path;
  const conditionCache = new Map<string, boolean>();
  const resolving = new Set<string>();
  const scope: IntrinsicScope = {
    where,
    param(name) {
      if ((BUILTIN_PARAMETERS as readonly string[]).includes(name)) return facts[name as keyof NodeFacts];
      const decl = template.parameters[name];
      if (!decl) {
        throw new AppError(
          'TEMPLATE_INVALID',
          `${where}: get_param ${name}: the parameter is not declared under parameters:`,
        );
      }
      const value = parameterValue(name, decl, env, passwords);
      if (value === undefined) {
        throw new AppError('TEMPLATE_INVALID', `${where}: parameter ${name} has no value`, {
          hint: /^Docker\w+Image$/.test(name)
            ? 'image parameters come from `overcloud container image prepare ... --output-env-file docker_registry.yaml`; pass -e docker_registry.yaml'
            : `set it under parameter_defaults in an environment file (-e), e.g. ${name}: ...`,
        });
      }
      return coerce(name, decl, value, where);
    },
    condition(name) {
      const cached = conditionCache.get(name);
      if (cached !== undefined) return cached;
      if (!(name in template.conditions))
        throw new AppError('TEMPLATE_INVALID', `${where}: if: unknown condition "${name}"`);
      if (resolving.has(name))
        throw new AppError('TEMPLATE_INVALID', `${where}: condition "${name}" refers to itself`);
      resolving.add(name);
      const value = evaluateCondition(template.conditions[name], scope, `conditions.${name}`);
      resolving.delete(name);
      conditionCache.set(name, value);
      return value;
    },
  };

  const hostDirectories = checked(
    z.array(z.string().startsWith('/')),
    evaluate(template.hostDirectories, scope, 'host_directories'),
    `${where}: host_directories`,
  );
  const configVolumes: RenderedService['configVolumes'] = {};
  for (const [vol, raw] of Object.entries(template.configVolumes)) {
    const v = checked(
      VolumeSchema,
      evaluate(raw, scope, `config_volumes.${vol}`),
      `${where}: config_volumes.${vol}`,
    );
    configVolumes[vol] = Object.fromEntries(
      Object.entries(v.files).map(([p, f]) => [p, { content: f.content, mode: f.mode ?? '0644' }]),
    );
  }
  const kolla: RenderedService['kolla'] = {};
  for (const [path, raw] of Object.entries(template.kollaConfig)) {
    kolla[path] = checked(
      KollaSchema,
      evaluate(raw, scope, `kolla_config.${path}`),
      `${where}: kolla_config.${path}`,
    );
  }
  const containers: RenderedContainer[] = [];
  const isBootstrap = facts.NodeName === facts.BootstrapNodeName;
  for (const [section, bootstrap] of [
    ['docker_config', false],
    ['bootstrap_config', true],
  ] as const) {
    if (bootstrap && !isBootstrap) continue;
    const steps = bootstrap ? template.bootstrapConfig : template.dockerConfig;
    for (const [stepKey, entries] of Object.entries(steps)) {
      const step = Number(stepKey.slice('step_'.length));
      for (const [name, raw] of Object.entries(entries)) {
        const at = `${section}.${stepKey}.${name}`;
        const input = checked(ContainerSpecSchema, evaluate(raw, scope, at), `${where}: ${at}`);
        const spec = normaliseSpec(input);
        if (spec.action === 'run' && !spec.image)
          throw new AppError(
            'TEMPLATE_INVALID',
            `${where}: ${at}: a container with action run needs an image`,
          );
        if (spec.action === 'exec' && (spec.command?.length ?? 0) < 2)
          throw new AppError(
            'TEMPLATE_INVALID',
            `${where}: ${at}: an exec needs command: [container, cmd, ...]`,
          );
        containers.push({ step, name, spec, bootstrap });
      }
    }
  }
  return {
    service,
    serviceName: template.serviceName,
    path: template.path,
    hostDirectories,
    configVolumes,
    kolla,
    containers,
  };
}
