/**
 * @module heat/environment
 * Heat environment files: `resource_registry`, `parameter_defaults`, `parameters`. Parsed one by one,
 * then merged in order with later files winning, as Heat merges `-e` files. Within one file a key
 * given twice takes its last value, as Heat's PyYAML loader does (the seed's own `echo ... >>
 * docker_registry.yaml` repeats a key prepare already wrote); each repeat becomes a warning.
 * https://docs.openstack.org/heat/latest/template_guide/environment.html
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { AppError } from '../errors.js';
import { loadYamlFile, type RepeatedKey, where, type YamlFile } from '../util/yaml.js';

/** The resource type that disables a service. */
export const HEAT_NONE = 'OS::Heat::None';

/** The top-level keys Heat accepts in an environment file. */
export const ENVIRONMENT_KEYS = [
  'parameters',
  'parameter_defaults',
  'resource_registry',
  'encrypted_param_names',
  'event_sinks',
  'parameter_merge_strategies',
] as const;

export interface Environment {
  /** Files this environment came from, in merge order. */
  files: string[];
  /** What the caller should tell the user: a key given twice in one file, and which line counts. */
  warnings: string[];
  /** Resource type -> template path (absolute) or another resource type such as OS::Heat::None. */
  resourceRegistry: Record<string, string>;
  parameterDefaults: Record<string, unknown>;
  parameters: Record<string, unknown>;
  /** Resource type -> where its (winning) mapping is, `file:line`, and the comment there, if any. */
  registryNotes: Record<string, string>;
}

export function emptyEnvironment(): Environment {
  return {
    files: [],
    warnings: [],
    resourceRegistry: {},
    parameterDefaults: {},
    parameters: {},
    registryNotes: {},
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * resolveRegistryTarget turns a template path relative to the environment file's folder into an
 * absolute one, as heatclient does; resource type names (`OS::...`) and URLs stay as they are.
 */
export function resolveRegistryTarget(target: string, envDir: string): string {
  if (target.includes('::') || /^[a-z]+:\/\//.test(target) || isAbsolute(target)) return target;
  return resolve(envDir, target);
}

/** parseEnvironment validates one parsed environment file. */
export function parseEnvironment(file: YamlFile): Environment {
  const env = emptyEnvironment();
  env.files.push(file.path);
  env.warnings.push(...file.repeatedKeys.map((r) => repeatedKeyWarning(file.path, r)));
  const doc = file.value;
  if (doc === null || doc === undefined) return env; // an empty file is a valid, empty environment
  if (!isRecord(doc)) {
    throw new AppError('ENV_INVALID', `${file.path}: an environment file must be a mapping of sections`, {
      hint: `expected top-level keys among: ${ENVIRONMENT_KEYS.join(', ')}`,
    });
  }
  for (const key of Object.keys(doc)) {
    if (!(ENVIRONMENT_KEYS as readonly string[]).includes(key)) {
      const guess = closest(key, ENVIRONMENT_KEYS);
      throw new AppError(
        'ENV_INVALID',
        `${where(file, [key])}: unknown top-level key "${key}" in environment file`,
        {
          hint: guess ? `did you mean "${guess}"?` : `expected one of: ${ENVIRONMENT_KEYS.join(', ')}`,
        },
      );
    }
  }
  const section = (key: string): Record<string, unknown> => {
    const v = doc[key];
    if (v === undefined || v === null) return {};
    if (!isRecord(v)) throw new AppError('ENV_INVALID', `${where(file, [key])}: "${key}" must be a mapping`);
    return v;
  };
  const envDir = dirname(resolve(file.path));
  for (const [type, target] of Object.entries(section('resource_registry'))) {
    if (type === 'resources') continue; // per-resource overrides: not used by prepare or deploy
    if (typeof target !== 'string') {
      throw new AppError(
        'ENV_INVALID',
        `${where(file, ['resource_registry', type])}: resource_registry "${type}" must map to a template path or resource type`,
      );
    }
    env.resourceRegistry[type] = resolveRegistryTarget(target, envDir);
    const comment = file.commentOf(['resource_registry', type]);
    env.registryNotes[type] = `${where(file, ['resource_registry', type])}${comment ? `: ${comment}` : ''}`;
  }
  Object.assign(env.parameterDefaults, section('parameter_defaults'));
  Object.assign(env.parameters, section('parameters'));
  return env;
}

/** mergeEnvironments merges in order; a later file's registry entries and parameters win. */
export function mergeEnvironments(envs: Environment[]): Environment {
  const merged = emptyEnvironment();
  for (const env of envs) {
    merged.files.push(...env.files);
    merged.warnings.push(...env.warnings);
    Object.assign(merged.resourceRegistry, env.resourceRegistry);
    Object.assign(merged.registryNotes, env.registryNotes);
    Object.assign(merged.parameterDefaults, env.parameterDefaults);
    Object.assign(merged.parameters, env.parameters);
  }
  return merged;
}

/** loadEnvironments reads and merges environment files in the order given. */
export async function loadEnvironments(paths: string[]): Promise<Environment> {
  const envs: Environment[] = [];
  for (const path of paths) {
    envs.push(parseEnvironment(await loadYamlFile(path, 'environment file', { repeatedKeys: 'last-wins' })));
  }
  return mergeEnvironments(envs);
}

/** repeatedKeyWarning names the file, the key, its lines, and the one Heat (and we) use: the last. */
export function repeatedKeyWarning(path: string, repeat: RepeatedKey): string {
  const name = [...repeat.parent, repeat.key].join('.');
  const earlier = repeat.lines.slice(0, -1);
  const last = repeat.lines[repeat.lines.length - 1];
  const lines = earlier.length > 1 ? `lines ${earlier.join(', ')}` : `line ${earlier[0]}`;
  return `${path}:${last}: ${name} repeats the key of ${lines}; the value of line ${last} is used, as Heat's YAML loader does`;
}

/** closest suggests the known word within edit distance 3 of a misspelt one. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
