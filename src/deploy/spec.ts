/**
 * @module deploy/spec
 * A container entry in paunch's compose-v1 format (research §2.2), as found under `docker_config.step_N`
 * of a container service definition after Heat intrinsics are evaluated. Validated strictly: a typo in
 * a key is an error naming the key, not a silently ignored option.
 */
import { z } from 'zod';

const Duration = z.union([z.string().regex(/^\d+(ms|s|m|h)?$/, 'a duration such as 30s'), z.number()]);

export const HealthcheckSchema = z.strictObject({
  test: z.string().min(1),
  interval: Duration.optional(),
  timeout: Duration.optional(),
  retries: z.number().int().positive().optional(),
  start_period: Duration.optional(),
});

export const ContainerSpecSchema = z.strictObject({
  action: z.enum(['run', 'exec']).optional(),
  image: z.string().min(1).optional(),
  net: z.string().optional(),
  ipc: z.string().optional(),
  pid: z.string().optional(),
  uts: z.string().optional(),
  privileged: z.boolean().optional(),
  restart: z.enum(['no', 'always', 'on-failure', 'unless-stopped']).optional(),
  user: z.string().optional(),
  hostname: z.string().optional(),
  volumes: z.array(z.string()).optional(),
  environment: z
    .union([z.array(z.string()), z.record(z.string(), z.union([z.string(), z.number()]))])
    .optional(),
  command: z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).optional(),
  detach: z.boolean().optional(),
  healthcheck: HealthcheckSchema.optional(),
  start_order: z.number().int().optional(),
  exit_codes: z.array(z.number().int()).optional(),
  cap_add: z.array(z.string()).optional(),
  cap_drop: z.array(z.string()).optional(),
  security_opt: z.array(z.string()).optional(),
  ulimit: z.array(z.string()).optional(),
});

export type ContainerSpecInput = z.infer<typeof ContainerSpecSchema>;

/**
 * ContainerSpec is the normalised entry: environment as a sorted `K=V` list and command as argv, so
 * that two specs that mean the same thing compare equal and the `config_data` label is stable.
 */
export interface ContainerSpec {
  action: 'run' | 'exec';
  image?: string;
  net?: string;
  ipc?: string;
  pid?: string;
  uts?: string;
  privileged?: boolean;
  restart?: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  user?: string;
  hostname?: string;
  volumes?: string[];
  environment?: string[];
  command?: string[];
  detach: boolean;
  healthcheck?: z.infer<typeof HealthcheckSchema>;
  start_order: number;
  exit_codes: number[];
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  ulimit?: string[];
}

/** normaliseSpec fills paunch's defaults and canonicalises environment and command. Pure. */
export function normaliseSpec(input: ContainerSpecInput): ContainerSpec {
  const { environment, command, action, detach, start_order, exit_codes, ...rest } = input;
  const spec: ContainerSpec = {
    ...rest,
    action: action ?? 'run',
    detach: detach ?? true,
    start_order: start_order ?? 0,
    exit_codes: exit_codes ?? [0],
  };
  if (environment !== undefined) {
    spec.environment = Array.isArray(environment)
      ? [...environment]
      : Object.entries(environment).map(([k, v]) => `${k}=${v}`);
    spec.environment.sort();
  }
  // paunch splits a string command on whitespace; a list is used as it is.
  if (command !== undefined)
    spec.command = typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command.map(String);
  return spec;
}

/** canonicalJson serialises with sorted keys, so equal specs give byte-equal labels. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
