/**
 * @module prepare/prepare
 * `container image prepare` as a pure function: catalogue + template variables + filters (+ tags
 * discovered from labels) -> the images to use, the Heat image parameters, and why each catalogue
 * entry was kept or dropped. No I/O: the CLI reads the inputs and writes the outputs.
 */
import { AppError } from '../errors.js';
import type { ServiceFilter } from '../heat/services.js';
import { parseReference, pushTargetName } from '../oci/reference.js';
import { type Catalogue, conditionHolds, renderImagename } from './catalogue.js';

/** The defaults of Pike's `overcloud container image prepare` (python-tripleoclient 7.3.x). */
export const DEFAULT_TEMPLATE_VARS: Readonly<Record<string, string>> = {
  namespace: 'docker.io/tripleoupstream',
  name_prefix: 'centos-binary-',
  name_suffix: '',
  tag: 'latest',
  ceph_namespace: 'docker.io/ceph',
  ceph_image: 'daemon',
  ceph_tag: 'v3.0.3-stable-3.0-jewel-centos-7-x86_64',
  neutron_driver: '',
  logging: 'files',
};

/** templateVars merges defaults, flags and --set values, then applies TripleO's dash rule. */
export function templateVars(overrides: Record<string, string | undefined>): Record<string, string> {
  const vars: Record<string, string> = { ...DEFAULT_TEMPLATE_VARS };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) vars[k] = v;
  // TripleO adds the separating dash when a prefix or suffix lacks it.
  const prefix = vars.name_prefix ?? '';
  if (prefix && !prefix.endsWith('-')) vars.name_prefix = `${prefix}-`;
  const suffix = vars.name_suffix ?? '';
  if (suffix && !suffix.startsWith('-')) vars.name_suffix = `-${suffix}`;
  return vars;
}

/** parseSet parses one `--set VAR=VALUE` (split on the first `=`). */
export function parseSet(assignment: string): [string, string] {
  const eq = assignment.indexOf('=');
  const name = eq > 0 ? assignment.slice(0, eq) : '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new AppError('SET_INVALID', `malformed --set "${assignment}": expected VARIABLE=VALUE`, {
      hint: 'for example --set ceph_tag=v3.0.3 (variable names are letters, digits and _)',
    });
  }
  return [name, assignment.slice(eq + 1)];
}

/** compileRegex compiles a user regex, naming the flag when it does not compile. */
export function compileRegex(pattern: string, flag: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new AppError(
      'REGEX_INVALID',
      `invalid regular expression for ${flag} "${pattern}": ${(e as Error).message}`,
    );
  }
}

export interface PrepareInput {
  catalogue: Catalogue;
  vars: Record<string, string>;
  /** undefined: no service filter (every catalogue entry whose condition holds is kept). */
  filter: ServiceFilter | undefined;
  includes: RegExp[];
  excludes: RegExp[];
  pushDestination?: string;
  pullSource?: string;
  /** Tags discovered from labels: catalogue-rendered imagename -> tag to use instead. */
  discoveredTags?: ReadonlyMap<string, string>;
}

export interface PreparedImage {
  /** The image as the catalogue renders it (the source of an upload). */
  imagename: string;
  params: string[];
  services: string[];
  pushDestination?: string;
  pullSource?: string;
  /** What the Heat parameters are set to: the push target when a destination is given. */
  envValue: string;
}

export interface Decision {
  imagename: string;
  kept: boolean;
  reason: string;
}

export interface PreparePlan {
  images: PreparedImage[];
  decisions: Decision[];
  /** Heat parameter -> image reference. */
  params: Record<string, string>;
}

/** planPrepare renders, filters and maps the catalogue. Pure and deterministic. */
export function planPrepare(input: PrepareInput): PreparePlan {
  const { catalogue, vars, filter } = input;
  const images: PreparedImage[] = [];
  const decisions: Decision[] = [];
  for (const [i, entry] of catalogue.entries.entries()) {
    if (!conditionHolds(entry, vars)) continue; // not rendered at all, as a Jinja {% if %} would not be
    const rendered = renderImagename(entry.imagename, vars, i);
    const ref = parseReferenceFor(rendered, i, catalogue.path);
    const dropped = dropReason(entry.services, rendered, input);
    if (dropped !== undefined) {
      decisions.push({ imagename: rendered, kept: false, reason: dropped });
      continue;
    }
    const discovered = input.discoveredTags?.get(rendered);
    const imagename =
      discovered !== undefined && ref.digest === undefined ? withTag(rendered, discovered) : rendered;
    const image: PreparedImage = {
      imagename,
      params: entry.params,
      services: entry.services,
      envValue: input.pushDestination ? pushTargetName(imagename, input.pushDestination) : imagename,
    };
    if (input.pushDestination) image.pushDestination = input.pushDestination;
    if (input.pullSource) image.pullSource = input.pullSource;
    images.push(image);
    const why = filter
      ? `enabled services: ${abbreviate(entry.services.filter((s) => filter.services.has(s)))}`
      : 'no service filter';
    decisions.push({ imagename, kept: true, reason: why });
  }
  const params: Record<string, string> = {};
  for (const image of images) for (const p of image.params) params[p] = image.envValue;
  return { images, decisions, params };
}

/** dropReason applies, in TripleO's Rocky+ order, the service filter, then includes, then excludes. */
function dropReason(services: string[], imagename: string, input: PrepareInput): string | undefined {
  const { filter, includes, excludes } = input;
  if (filter) {
    if (services.length === 0) return 'no services listed, and a service filter is active';
    if (!services.some((s) => filter.services.has(s))) {
      // A service the environments disabled on purpose says why (OS::Heat::None and its comment).
      const disabled = services.flatMap((s) => {
        const v = filter.verdicts.get(s);
        return v && !v.enabled && v.reason.startsWith('mapped to') ? [`${short(s)} ${v.reason}`] : [];
      });
      return `none of its services is enabled: ${abbreviate(services)}${disabled.length ? `; ${disabled.join('; ')}` : ''}`;
    }
  }
  if (includes.length > 0) {
    if (!includes.some((re) => re.test(imagename))) {
      return `matches no --include (${includes.map((r) => r.source).join(', ')})`;
    }
    return undefined; // as in TripleO, --exclude is ignored when --include is given
  }
  const hit = excludes.find((re) => re.test(imagename));
  return hit ? `matches --exclude ${hit.source}` : undefined;
}

function parseReferenceFor(imagename: string, index: number, path: string) {
  try {
    return parseReference(imagename);
  } catch (e) {
    throw new AppError(
      'REFERENCE_INVALID',
      `catalogue entry #${index + 1} of ${path} renders "${imagename}", which is not a valid image reference`,
      { cause: e, hint: 'check --namespace, --prefix, --suffix, --tag and --set values' },
    );
  }
}

/** withTag replaces (or adds) the tag of an image name, leaving a registry port alone. */
export function withTag(imagename: string, tag: string): string {
  const colon = imagename.lastIndexOf(':');
  const base = colon > imagename.lastIndexOf('/') ? imagename.slice(0, colon) : imagename;
  return `${base}:${tag}`;
}

const short = (s: string): string => s.replace(/^OS::TripleO::Services::/, '');

function abbreviate(services: string[]): string {
  const names = services.map(short);
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} (+${names.length - 4})` : names.join(', ');
}
