/**
 * @module lab/upstream-args
 * tripleo-quickstart's `extra_args` and `topology` are pieces of the `openstack overcloud deploy`
 * command line. This reads the arguments that have a meaning here: `-e` files, `--ntp-server`
 * (TripleO's client turns it into the NtpServer parameter), the `--<role>-scale` counts and
 * `--roles-file`; arguments about what the lab has no use for (flavors, libvirt type, timeout) are
 * noted; anything else is an error, as the real client would refuse an unknown argument.
 */
import { isAbsolute, resolve } from 'node:path';

export interface DeployArgs {
  /** -e files: relative to the templates folder when they were TripleO's, else absolute. */
  environments: string[];
  parameters: Record<string, unknown>;
  /** role -> count from --<role>-scale */
  scales: Record<string, number>;
  rolesFile?: string;
  /** "arg: why it is not applied here" */
  notes: string[];
}

/** The scale flags of Pike's client, by the role they count (tripleoclient's deprecated *_scale). */
const SCALE_FLAGS: Record<string, string> = {
  '--control-scale': 'Controller',
  '--compute-scale': 'Compute',
  '--ceph-storage-scale': 'CephStorage',
  '--block-storage-scale': 'BlockStorage',
  '--swift-storage-scale': 'ObjectStorage',
};

/** Arguments taking a value that are accepted but change nothing here, and why. */
const NOTED_WITH_VALUE: Record<string, string> = {
  '--control-flavor': 'no Nova flavors: the lab gives each role its nodes directly',
  '--compute-flavor': 'no Nova flavors: the lab gives each role its nodes directly',
  '--ceph-storage-flavor': 'no Nova flavors: the lab gives each role its nodes directly',
  '--block-storage-flavor': 'no Nova flavors: the lab gives each role its nodes directly',
  '--swift-storage-flavor': 'no Nova flavors: the lab gives each role its nodes directly',
  '--libvirt-type': "the lab's nova-compute uses the fake driver (no guests to virtualize)",
  '--timeout': "the deploy's per-container health timeout (deploy.health_timeout) bounds it instead",
  '--templates': 'the shipped templates (templates/) are deployed',
};
const NOTED_FLAGS: Record<string, string> = {
  '--validation-warnings-fatal': 'no template validation step: the deploy checks its inputs itself',
  '--validation-errors-fatal': 'no template validation step: the deploy checks its inputs itself',
  '--disable-validations': 'no template validation step: the deploy checks its inputs itself',
};

/** Where TripleO's templates live on an undercloud, and the quickstart's variable for them. */
const THT = /^(\{\{\s*overcloud_templates_path\s*\}\}|\/usr\/share\/openstack-tripleo-heat-templates)\//;

/** tokenize splits a command-line fragment on white space; '…' and "…" group words. */
export function tokenize(text: string): string[] | string {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) return `unterminated ${quote} quote`;
  if (inWord) out.push(cur);
  return out;
}

/** environmentPath maps a -e path: TripleO's template folder -> ours (relative), else absolute. */
function environmentPath(path: string, cwd: string): string | string[] {
  const m = THT.exec(path);
  if (m) return path.slice(m[0].length);
  if (/\{\{|\{%/.test(path))
    return [`${path}: a Jinja expression; only {{ overcloud_templates_path }} is known here`];
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * parseDeployArgs reads a deploy command-line fragment. Errors are returned as messages (the caller
 * adds file and line); `cwd` resolves relative -e and -r paths.
 */
export function parseDeployArgs(text: string, cwd: string): DeployArgs | string {
  if (/\{%/.test(text))
    return 'Jinja statements ({% … %}) are not evaluated here; write the arguments they would produce';
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return tokens;
  const r: DeployArgs = { environments: [], parameters: {}, scales: {}, notes: [] };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] as string;
    const eq = tok.startsWith('--') ? tok.indexOf('=') : -1;
    const flag = eq > 0 ? tok.slice(0, eq) : tok;
    const inline = eq > 0 ? tok.slice(eq + 1) : undefined;
    const takesValue =
      flag === '-e' ||
      flag === '--environment-file' ||
      flag === '--ntp-server' ||
      flag === '-r' ||
      flag === '--roles-file' ||
      flag in SCALE_FLAGS ||
      flag in NOTED_WITH_VALUE;
    if (!takesValue) {
      if (flag in NOTED_FLAGS) {
        r.notes.push(`${flag}: ${NOTED_FLAGS[flag]}`);
        continue;
      }
      return `${tok}: not a deploy argument this build supports (known: -e, --environment-file, --ntp-server, -r, --roles-file, ${Object.keys(SCALE_FLAGS).join(', ')})`;
    }
    const value = inline ?? tokens[++i];
    if (value === undefined || (inline === undefined && value.startsWith('-')))
      return `${flag} needs a value`;
    if (flag === '-e' || flag === '--environment-file') {
      const p = environmentPath(value, cwd);
      if (Array.isArray(p)) return p[0] as string;
      r.environments.push(p);
    } else if (flag === '--ntp-server') {
      // tripleoclient: `--ntp-server` sets the NtpServer parameter (a comma-separated list is kept as is).
      r.parameters.NtpServer = value;
    } else if (flag === '-r' || flag === '--roles-file') {
      const p = environmentPath(value, cwd);
      if (Array.isArray(p)) return p[0] as string;
      r.rolesFile = p;
    } else if (flag in SCALE_FLAGS) {
      if (!/^\d+$/.test(value)) return `${flag} ${value}: expected a whole number`;
      r.scales[SCALE_FLAGS[flag] as string] = Number(value);
    } else {
      r.notes.push(`${flag} ${value}: ${NOTED_WITH_VALUE[flag]}`);
    }
  }
  return r;
}
