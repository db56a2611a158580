/**
 * @module prepare/prepare-run
 * The I/O around the pure planner: read environments, roles and catalogue; ask registries for
 * labels (--tag-from-label) and transports (insecure detection); render both files. Registry access
 * is injected, so tests and the CLI choose the implementation.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, errorMessage } from '../errors.js';
import { loadEnvironments } from '../heat/environment.js';
import { loadRoles } from '../heat/roles.js';
import { buildServiceFilter, type ServiceFilter } from '../heat/services.js';
import { registryOfName } from '../oci/reference.js';
import { templatesPath } from '../util/paths.js';
import { loadCatalogue } from './catalogue.js';
import { renderEnvFile, renderImagesFile } from './output.js';
import { compileRegex, type PreparePlan, parseSet, planPrepare, templateVars } from './prepare.js';
import { discoverTags, type LabelSource } from './tag-from-label.js';

/** How a registry answers: verified HTTPS, HTTPS with a certificate we cannot verify, plain HTTP. */
export type RegistryTransport = 'https' | 'https-unverified' | 'http' | 'unreachable';
export type RegistryProbe = (host: string) => Promise<RegistryTransport>;

/** Registries known to speak verified HTTPS: never probed. */
export const SECURE_REGISTRIES: ReadonlySet<string> = new Set([
  'docker.io',
  'registry-1.docker.io',
  'quay.io',
]);

export interface PrepareOptions {
  namespace?: string;
  prefix?: string;
  suffix?: string;
  tag?: string;
  set: string[];
  includes: string[];
  excludes: string[];
  pushDestination?: string;
  pullSource?: string;
  environmentFiles: string[];
  environmentDirectories: string[];
  rolesFile?: string;
  templateFile?: string;
  tagFromLabel?: string;
  detectInsecure: boolean;
  insecureRegistries: string[];
  outputEnvFile?: string;
  outputImagesFile?: string;
  format: 'yaml' | 'json';
  commandLine: string;
  now?: Date;
}

export interface PrepareDeps {
  probe: RegistryProbe;
  labels: LabelSource;
  warn: (message: string) => void;
}

export interface PrepareResult {
  plan: PreparePlan;
  filter: ServiceFilter | undefined;
  envFilesUsed: string[];
  insecureRegistries: string[];
  /** The texts to write: env file (if asked for) and images file / stdout. */
  envText: string | undefined;
  imagesText: string;
}

/** defaultRolesFile is the shipped Pike roles_data.yaml. */
export function defaultRolesFile(): string {
  return templatesPath('roles_data.yaml');
}

/** defaultRegistryFile is the shipped default resource registry. */
export function defaultRegistryFile(): string {
  return templatesPath('overcloud-resource-registry.yaml');
}

/** environmentDirectoryFiles lists `*.yaml` in each directory, sorted, as TripleO does. */
async function environmentDirectoryFiles(dirs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // an absent default directory is fine
      throw new AppError('FILE_NOT_FOUND', `cannot read environment directory ${dir}: ${errorMessage(e)}`);
    }
    files.push(
      ...names
        .filter((n) => n.endsWith('.yaml'))
        .sort()
        .map((n) => join(dir, n)),
    );
  }
  return files;
}

/** runPrepare computes everything prepare outputs; the caller writes the files. */
export async function runPrepare(opts: PrepareOptions, deps: PrepareDeps): Promise<PrepareResult> {
  // Validate every flag before touching a file or the network.
  const sets = Object.fromEntries(opts.set.map(parseSet));
  const includes = opts.includes.map((p) => compileRegex(p, '--include'));
  const excludes = opts.excludes.map((p) => compileRegex(p, '--exclude'));
  if (includes.length > 0 && excludes.length > 0)
    deps.warn('--exclude is ignored when --include is given (as in TripleO)');

  const envFiles = [
    ...(await environmentDirectoryFiles(opts.environmentDirectories)),
    ...opts.environmentFiles,
  ];
  // The service filter is active when the deployment is described: environment files or a roles file.
  // It then starts from the default resource registry, as `overcloud deploy --templates` does, so
  // that prepare selects exactly the images a deploy of the same files would run.
  const filterActive = envFiles.length > 0 || opts.rolesFile !== undefined;
  const env = await loadEnvironments(filterActive ? [defaultRegistryFile(), ...envFiles] : []);
  for (const warning of env.warnings) deps.warn(warning);
  const filter = filterActive
    ? buildServiceFilter(await loadRoles(opts.rolesFile ?? defaultRolesFile()), env)
    : undefined;
  const catalogue = await loadCatalogue(opts.templateFile);

  const vars = templateVars({
    namespace: opts.namespace,
    name_prefix: opts.prefix,
    name_suffix: opts.suffix,
    tag: opts.tag,
    neutron_driver: neutronDriver(env.parameterDefaults, filter),
    ...sets,
  });
  const input = {
    catalogue,
    vars,
    filter,
    includes,
    excludes,
    pushDestination: opts.pushDestination,
    pullSource: opts.pullSource,
  };
  let plan = planPrepare(input);
  if (opts.tagFromLabel) {
    // Labels are read where the images are pulled from: through --pull-source when it is given.
    const pullSource = opts.pullSource;
    const from = (name: string) => (pullSource ? `${pullSource.replace(/\/+$/, '')}/${name}` : name);
    const source: LabelSource = {
      labels: (name) => deps.labels.labels(from(name)),
      tags: (name) => deps.labels.tags(from(name)),
    };
    const discovered = await discoverTags(plan.images, opts.tagFromLabel, source, deps.warn);
    plan = planPrepare({ ...input, discoveredTags: discovered });
  }

  const insecure = new Set(opts.insecureRegistries);
  if (opts.detectInsecure) {
    for (const host of await detectInsecureRegistries(Object.values(plan.params), deps)) insecure.add(host);
  }
  const insecureRegistries = [...insecure].sort();
  const envText = opts.outputEnvFile
    ? renderEnvFile({
        params: plan.params,
        insecureRegistries,
        generatedAt: opts.now ?? new Date(),
        commandLine: opts.commandLine,
      })
    : undefined;
  return {
    plan,
    filter,
    envFilesUsed: envFiles,
    insecureRegistries,
    envText,
    imagesText: renderImagesFile(plan.images, opts.format),
  };
}

/**
 * neutronDriver picks the template's neutron_driver: from NeutronMechanismDrivers when set (Rocky's
 * rule), else from the enabled services (Pike's rule: OpenDaylightApi -> odl, OVNController -> ovn).
 */
export function neutronDriver(
  parameterDefaults: Record<string, unknown>,
  filter: ServiceFilter | undefined,
): string {
  const drivers = parameterDefaults.NeutronMechanismDrivers;
  if (drivers !== undefined && drivers !== null) {
    const list = Array.isArray(drivers) ? drivers.map(String) : String(drivers).split(',');
    if (list.some((d) => d.trim() === 'opendaylight_v2')) return 'odl';
    if (list.some((d) => d.trim() === 'ovn')) return 'ovn';
    return '';
  }
  if (filter?.services.has('OS::TripleO::Services::OpenDaylightApi')) return 'odl';
  if (filter?.services.has('OS::TripleO::Services::OVNController')) return 'ovn';
  return '';
}

/**
 * detectInsecureRegistries probes each distinct registry host of the parameter values, in parallel.
 * Plain HTTP and unverifiable HTTPS are insecure; an unreachable host is reported, not guessed at.
 */
export async function detectInsecureRegistries(values: string[], deps: PrepareDeps): Promise<string[]> {
  const hosts = [...new Set(values.map(registryOfName).filter((h): h is string => h !== undefined))].filter(
    (h) => !SECURE_REGISTRIES.has(h),
  );
  const results = await Promise.all(hosts.map(async (host) => [host, await deps.probe(host)] as const));
  const insecure: string[] = [];
  for (const [host, transport] of results) {
    if (transport === 'http' || transport === 'https-unverified') insecure.push(host);
    if (transport === 'unreachable') {
      deps.warn(
        `could not reach registry ${host} to check whether it speaks verified HTTPS; not listing it in DockerInsecureRegistryAddress (add --insecure-registry ${host} if it is plain HTTP)`,
      );
    }
  }
  return insecure.sort();
}
