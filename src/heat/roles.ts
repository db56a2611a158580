/**
 * @module heat/roles
 * `roles_data.yaml`: the list of roles, each with a name, a default node count and the services it
 * runs. Which services a deployment enables follows from these and the environment's parameters.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { loadYamlFile, parseItem, where, type YamlFile } from '../util/yaml.js';

const RoleSchema = z.looseObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be letters and digits, starting with a letter'),
  description: z.string().optional(),
  CountDefault: z.number().int().nonnegative().optional(),
  ServicesDefault: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
  networks: z.array(z.string()).optional(),
  HostnameFormatDefault: z.string().optional(),
});

export type Role = z.infer<typeof RoleSchema>;

/** parseRoles validates a parsed roles file: a non-empty list of roles with unique names. */
export function parseRoles(file: YamlFile): Role[] {
  const doc = file.value;
  if (!Array.isArray(doc) || doc.length === 0) {
    throw new AppError('ROLES_INVALID', `${file.path}: a roles file must be a non-empty list of roles`, {
      hint: 'each item needs at least `name:`; see templates/roles_data.yaml for the defaults',
    });
  }
  const roles: Role[] = [];
  const seen = new Set<string>();
  doc.forEach((item, i) => {
    const role = parseItem(RoleSchema, item, file, [i], `role #${i + 1}`, 'ROLES_INVALID');
    if (seen.has(role.name)) {
      throw new AppError('ROLES_INVALID', `${where(file, [i])}: role "${role.name}" is defined twice`);
    }
    seen.add(role.name);
    roles.push(role);
  });
  return roles;
}

/** loadRoles reads and validates a roles file. */
export async function loadRoles(path: string): Promise<Role[]> {
  return parseRoles(await loadYamlFile(path, 'roles file'));
}

/** roleCount is `<Role>Count` from parameter_defaults, else CountDefault, else 0. */
export function roleCount(role: Role, parameterDefaults: Record<string, unknown>): number {
  const key = `${role.name}Count`;
  const raw = parameterDefaults[key];
  if (raw === undefined || raw === null) return role.CountDefault ?? 0;
  const n =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)
        ? Number(raw)
        : Number.NaN;
  if (!Number.isInteger(n) || n < 0) {
    throw new AppError(
      'ENV_INVALID',
      `parameter_defaults.${key} must be a whole number of nodes, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** roleServices is `<Role>Services` from parameter_defaults (it replaces the list), else ServicesDefault. */
export function roleServices(role: Role, parameterDefaults: Record<string, unknown>): string[] {
  const key = `${role.name}Services`;
  const raw = parameterDefaults[key];
  if (raw === undefined || raw === null) return role.ServicesDefault ?? [];
  if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) {
    throw new AppError('ENV_INVALID', `parameter_defaults.${key} must be a list of service names`);
  }
  return raw as string[];
}

/**
 * enabledServices is the union of the service lists of every role deployed on at least one node.
 * The map says, per service, which roles enable it (for --explain).
 */
export function enabledServices(
  roles: Role[],
  parameterDefaults: Record<string, unknown>,
): Map<string, string[]> {
  const enabled = new Map<string, string[]>();
  for (const role of roles) {
    if (roleCount(role, parameterDefaults) <= 0) continue;
    for (const service of roleServices(role, parameterDefaults)) {
      const list = enabled.get(service);
      if (list) list.push(role.name);
      else enabled.set(service, [role.name]);
    }
  }
  return enabled;
}
