/**
 * @module cli/commands/kolla-flags
 * kolla-build's spelling of `overcloud image build`: the seed's
 *   kolla-build --base centos --type binary --namespace tripleoupstream --registry 192.168.24.1:8787
 *     --tag latest --template-override .../tripleo_kolla_template_overrides.j2 --push
 * works here with only the base changed. Pure: the flags in, our build's options (or a usage error
 * saying why) out.
 */
import { basename } from 'node:path';
import { AppError } from '../../errors.js';

/** What kolla names an image: <registry>/<namespace>/<base>-<type>-<name>:<tag>. */
export const BASES = ['debian'] as const;
export const TYPES = ['binary'] as const;

export interface KollaSpelling {
  /** our --include and --prefix as given */
  include?: string;
  prefix?: string;
  /** our --push REGISTRY, or kolla's --push flag (true) */
  push?: string | boolean;
  parallel?: string;
  /** kolla's */
  regexes: string[];
  base?: string;
  type?: string;
  registry?: string;
  threads?: string;
  templateOverride?: string;
}

export interface Resolved {
  include?: string;
  prefix: string;
  push?: string;
  parallel: number;
  /** lines for stderr: what a kolla flag did or why it changes nothing */
  notes: string[];
}

const DEFAULT_PREFIX = 'debian-binary-';
const DEFAULT_PARALLEL = '3';

/** TripleO's own overrides file (tripleo-common container-images/), which the seed passes. */
const TRIPLEO_OVERRIDES = 'tripleo_kolla_template_overrides.j2';

const usage = (message: string, hint?: string): AppError =>
  new AppError('USAGE', message, hint === undefined ? {} : { hint });

/** resolveKollaFlags maps kolla-build's flags onto ours; contradictions are usage errors. */
export function resolveKollaFlags(f: KollaSpelling): Resolved {
  const notes: string[] = [];
  if (f.base !== undefined && !(BASES as readonly string[]).includes(f.base))
    throw usage(
      `--base ${f.base}: this build makes ${BASES.join(', ')} images only (from Debian 12's packages)`,
      "use --base debian; kolla's other bases (centos, ubuntu, rhel, ...) are not built here",
    );
  if (f.type !== undefined && !(TYPES as readonly string[]).includes(f.type))
    throw usage(
      `--type ${f.type}: this build makes binary images only (Debian's packages); ${f.type === 'source' ? 'source images (OpenStack installed from its git tarballs) are' : 'that install type is'} not built here`,
      'use --type binary',
    );
  const kollaPrefix =
    f.base !== undefined || f.type !== undefined ? `${f.base ?? BASES[0]}-${f.type ?? TYPES[0]}-` : undefined;
  if (kollaPrefix !== undefined && f.prefix !== undefined && f.prefix !== kollaPrefix)
    throw usage(`--prefix ${f.prefix} contradicts --base/--type, which name the images ${kollaPrefix}<name>`);
  const prefix = f.prefix ?? kollaPrefix ?? DEFAULT_PREFIX;

  const regexes = [...f.regexes];
  let push: string | undefined;
  if (f.registry !== undefined) {
    if (f.push === undefined)
      notes.push(
        `--registry ${f.registry} without --push: the images stay local (localhost/<namespace>/...); add --push to push them there`,
      );
    else if (typeof f.push === 'string' && f.push !== f.registry) {
      if (/^[\w.-]+:\d+$/.test(f.push))
        throw usage(`--registry ${f.registry} and --push ${f.push} name two registries: give one`);
      // kolla's --push takes no value: what follows it is an image regex (`--push nova`).
      regexes.push(f.push);
    }
    if (f.push !== undefined) push = f.registry;
  } else if (f.push === true) {
    throw usage("--push needs a registry: --push REGISTRY, or kolla's --registry REGISTRY --push");
  } else if (typeof f.push === 'string') {
    push = f.push;
  }

  let include = f.include;
  if (regexes.length > 0) {
    if (include !== undefined)
      throw usage("give either --include or image name regexes (kolla's positional arguments), not both");
    // kolla builds an image when any regex matches somewhere in its name (re.search).
    include = regexes.length === 1 ? regexes[0] : regexes.map((r) => `(?:${r})`).join('|');
  }

  if (f.threads !== undefined && f.parallel !== undefined && f.threads !== f.parallel)
    throw usage(
      `--threads ${f.threads} and --parallel ${f.parallel} say different things (they are the same setting)`,
    );
  const parallelText = f.threads ?? f.parallel ?? DEFAULT_PARALLEL;
  const parallel = Number(parallelText);
  if (!/^\d+$/.test(parallelText) || parallel < 1)
    throw usage(`${f.threads !== undefined ? '--threads' : '--parallel'} must be a positive integer`);

  if (f.templateOverride !== undefined) notes.push(templateOverrideNote(f.templateOverride));
  return {
    ...(include === undefined ? {} : { include }),
    prefix,
    ...(push === undefined ? {} : { push }),
    parallel,
    notes,
  };
}

/**
 * templateOverrideNote: kolla's --template-override is a Jinja2 file of blocks that extend kolla's
 * Dockerfile templates. This build has no such templates: its images come from recipes. TripleO's
 * own overrides file is accepted (it only adapts kolla's CentOS images); any other is refused.
 */
function templateOverrideNote(path: string): string {
  if (basename(path) === TRIPLEO_OVERRIDES)
    return `--template-override ${path}: not applied: TripleO's overrides adapt kolla's CentOS templates (yum repositories, EPEL removals, CentOS package names, puppet for docker-puppet.py); these images are built from Debian recipes (templates/images/images.yaml) and the deploy writes each service's configuration itself`;
  throw usage(
    `--template-override ${path}: kolla template overrides are Jinja2 blocks of kolla's Dockerfile templates, which this build does not use: its images are built from recipes`,
    'put the change into a copy of templates/images/images.yaml (packages, files, remove per image) and pass it with --recipes FILE',
  );
}
