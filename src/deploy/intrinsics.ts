/**
 * @module deploy/intrinsics
 * The documented subset of Heat intrinsic functions that container service definitions may use:
 * `get_param` (with an optional path into maps and lists), `str_replace`, `list_concat`, `list_join`,
 * `if` (naming a condition), and in `conditions:` `equals`, `not`, `and`, `or`. Any other Heat function
 * is rejected by name rather than passed through as data. Pure.
 * https://docs.openstack.org/heat/latest/template_guide/hot_spec.html#intrinsic-functions
 */
import { AppError } from '../errors.js';

/** Heat functions we know of but do not implement: using one is an error, not data. */
const UNSUPPORTED = new Set([
  'get_attr',
  'get_resource',
  'get_file',
  'map_merge',
  'map_replace',
  'repeat',
  'yaql',
  'digest',
  'resource_facade',
  'str_split',
  'contains',
  'filter',
  'make_url',
  'list_concat_unique',
  'str_replace_strict',
  'str_replace_vstrict',
]);

export interface IntrinsicScope {
  /** Where we are, for messages (file and key path). */
  where: string;
  /** param returns a parameter's value; it throws when the template does not declare it. */
  param(name: string): unknown;
  /** condition returns a named condition's value. */
  condition(name: string): boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(scope: IntrinsicScope, path: string, message: string): never {
  throw new AppError('TEMPLATE_INVALID', `${scope.where}${path ? ` at ${path}` : ''}: ${message}`);
}

/** evaluate resolves every intrinsic function call in a value, depth first. */
export function evaluate(value: unknown, scope: IntrinsicScope, path = ''): unknown {
  if (Array.isArray(value)) return value.map((v, i) => evaluate(v, scope, `${path}[${i}]`));
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  const fn = keys.length === 1 ? keys[0] : undefined;
  if (fn !== undefined) {
    const arg = value[fn];
    const here = path ? `${path}.${fn}` : fn;
    switch (fn) {
      case 'get_param':
        return getParam(evaluate(arg, scope, here), scope, here);
      case 'str_replace':
        return strReplace(arg, scope, here);
      case 'list_concat':
        return listConcat(evaluate(arg, scope, here), scope, here);
      case 'list_join':
        return listJoin(evaluate(arg, scope, here), scope, here);
      case 'if':
        return ifFn(arg, scope, here);
      case 'equals':
      case 'not':
      case 'and':
      case 'or':
        fail(scope, here, `"${fn}" is allowed only in the conditions: section (use if: [condition, a, b])`);
        break;
      default:
        if (UNSUPPORTED.has(fn))
          fail(scope, here, `Heat function "${fn}" is not supported in container service definitions`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = evaluate(value[k], scope, path ? `${path}.${k}` : k);
  return out;
}

/** evaluateCondition computes a `conditions:` entry: a boolean, equals/not/and/or, or another name. */
export function evaluateCondition(value: unknown, scope: IntrinsicScope, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return scope.condition(value);
  if (isRecord(value) && Object.keys(value).length === 1) {
    const [fn] = Object.keys(value) as [string];
    const arg = value[fn];
    if (fn === 'equals') {
      if (!Array.isArray(arg) || arg.length !== 2) fail(scope, path, 'equals takes a list of two values');
      const [a, b] = arg.map((v, i) => evaluate(v, scope, `${path}.equals[${i}]`));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    if (fn === 'not') return !evaluateCondition(arg, scope, `${path}.not`);
    if ((fn === 'and' || fn === 'or') && Array.isArray(arg)) {
      const values = arg.map((v, i) => evaluateCondition(v, scope, `${path}.${fn}[${i}]`));
      return fn === 'and' ? values.every(Boolean) : values.some(Boolean);
    }
  }
  fail(scope, path, 'a condition must be true/false, a condition name, or equals/not/and/or');
}

function getParam(arg: unknown, scope: IntrinsicScope, path: string): unknown {
  const [name, ...keys] = Array.isArray(arg) ? arg : [arg];
  if (typeof name !== 'string') fail(scope, path, 'get_param takes a parameter name or [name, key, ...]');
  let v = scope.param(name);
  for (const key of keys) {
    if (Array.isArray(v) && typeof key === 'number') v = v[key];
    else if (isRecord(v) && (typeof key === 'string' || typeof key === 'number')) v = v[String(key)];
    else fail(scope, path, `get_param: cannot index ${name} with ${JSON.stringify(key)}`);
    if (v === undefined) fail(scope, path, `get_param: ${name} has no key ${JSON.stringify(key)}`);
  }
  return v;
}

/** asText converts a value for string substitution as Heat does: scalars as text, the rest as JSON. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function strReplace(arg: unknown, scope: IntrinsicScope, path: string): string {
  if (!isRecord(arg)) fail(scope, path, 'str_replace takes {template: ..., params: {...}}');
  const template = evaluate(arg.template, scope, `${path}.template`);
  const params = evaluate(arg.params ?? {}, scope, `${path}.params`);
  if (typeof template !== 'string') fail(scope, path, 'str_replace: template must be a string');
  if (!isRecord(params)) fail(scope, path, 'str_replace: params must be a mapping');
  // Longest keys first, so that a key that is a prefix of another does not replace part of it.
  const keys = Object.keys(params).sort((a, b) => b.length - a.length);
  if (keys.length === 0) return template;
  const re = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return template.replace(re, (m) => asText(params[m]));
}

function listConcat(arg: unknown, scope: IntrinsicScope, path: string): unknown[] {
  if (!Array.isArray(arg) || !arg.every((l) => Array.isArray(l) || l === null))
    fail(scope, path, 'list_concat takes a list of lists');
  return (arg as (unknown[] | null)[]).flatMap((l) => l ?? []);
}

function listJoin(arg: unknown, scope: IntrinsicScope, path: string): string {
  if (!Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1]))
    fail(scope, path, 'list_join takes [delimiter, [values...]]');
  return (arg[1] as unknown[]).map(asText).join(arg[0]);
}

function ifFn(arg: unknown, scope: IntrinsicScope, path: string): unknown {
  if (!Array.isArray(arg) || arg.length !== 3)
    fail(scope, path, 'if takes [condition, value_if_true, value_if_false]');
  const chosen = evaluateCondition(arg[0], scope, `${path}[0]`) ? 1 : 2;
  return evaluate(arg[chosen], scope, `${path}[${chosen}]`);
}
