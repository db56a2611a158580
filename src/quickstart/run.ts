/**
 * @module quickstart/run
 * The seed's workflow, stage by stage, on the lab: host checks, lab, registries, prepare, image
 * build (of exactly the images prepare listed) pushed "upstream", upload into the undercloud
 * registry, deploy onto the nodes (through Ansible by default, or the engine's SSH runner), validate,
 * summary. Each stage runs the real `overcloud` CLI (inside the undercloud namespace when it talks to
 * the lab), logs everything to
 * `<lab>/logs/<stage>.log`, and says whether it changed anything, so a second run can prove it
 * converged.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { DeployReportDoc } from '../deploy/index.js';
import { registerStack, unregisterStack } from '../deploy/index.js';
import { AppError } from '../errors.js';
import { loadRoles, type Role } from '../heat/roles.js';
import {
  ancestors,
  catalogueNames,
  imagesNamed,
  loadRecipes,
  servedNames,
  tagNames,
} from '../image-build/index.js';
import {
  ensureRegistries,
  type LabPaths,
  labDown,
  labPaths,
  labUp,
  planTopology,
  type QuickstartConfig,
  recordBuiltNames,
  type Topology,
} from '../lab/index.js';
import { parseReference } from '../oci/reference.js';
import { inNet, runProcess } from '../process/index.js';
import { openLocalStore } from '../server/index.js';
import { readTextOr } from '../util/fs.js';
import { cliCommand, templatesPath } from '../util/paths.js';
import {
  formatDuration,
  includeRegex,
  quickstartEnvironment,
  type StageOutcome,
  selectBuild,
  verdict,
} from './plan.js';

export interface QuickstartOptions {
  verbose: boolean;
  /** Progress lines (stdout). */
  out: (line: string) => void;
  /** Verbose detail (stderr). */
  err: (line: string) => void;
}

interface Ctx {
  config: QuickstartConfig;
  topo: Topology;
  paths: LabPaths;
  opts: QuickstartOptions;
  templates: string;
  upstreamLoopback?: string;
  log: string;
}

export interface QuickstartReport {
  stages: StageOutcome[];
  converged: boolean;
  seconds: number;
  nodes: {
    name: string;
    role: string;
    address: string;
    containers: number;
    running: number;
    healthy: number;
  }[];
  overcloudrc?: string;
}

async function loadTopology(
  config: QuickstartConfig,
): Promise<{ topo: Topology; roles: Role[]; templates: string }> {
  const templates = config.deploy.templates ?? templatesPath();
  const roles = await loadRoles(config.deploy.rolesFile ?? join(templates, 'roles_data.yaml'));
  return { topo: planTopology(config, roles), roles, templates };
}

/** overcloud runs the real CLI (in the undercloud namespace unless `root`), logging every line. */
async function overcloud(ctx: Ctx, args: string[], where: 'undercloud' | 'root' = 'undercloud') {
  const argv =
    where === 'root' ? [...cliCommand(), ...args] : inNet(ctx.topo.undercloud.ns, [...cliCommand(), ...args]);
  // Streamed to the stage log as it comes, so `tail -f` follows a long build or deploy.
  const log = createWriteStream(ctx.log, { flags: 'a' });
  log.write(`$ ${argv.join(' ')}\n`);
  const line = (l: string): void => {
    log.write(`${l}\n`);
    if (ctx.opts.verbose) ctx.opts.err(`    ${l}`);
  };
  const r = await runProcess(argv, { timeoutMs: 3_600_000, onLine: line, onStderrLine: line });
  await new Promise<void>((resolve) => log.end(`[exit ${r.code}]\n`, () => resolve()));
  return r;
}

function failed(
  stage: string,
  r: { code: number | null; stdout: string; stderr: string },
  log: string,
): AppError {
  const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-12).join('\n    ');
  return new AppError(
    'QUICKSTART_STAGE_FAILED',
    `stage ${stage} failed (${r.code === null ? 'killed' : `exit ${r.code}`}):\n    ${tail}`,
    {
      hint: `full output in ${log}; fix the cause and run the quickstart again (it resumes where it stopped)`,
    },
  );
}

/**
 * jsonOutput reads what a command printed with --json: the quickstart reads the other commands'
 * documents, never their human output.
 */
function jsonOutput<T>(stage: string, r: { stdout: string }, log: string): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new AppError('QUICKSTART_STAGE_FAILED', `stage ${stage}: the command's --json output is not JSON`, {
      hint: `its output is in ${log}`,
    });
  }
}

const readOr = (path: string): Promise<string | undefined> => readTextOr(path, undefined);

function stackFile(ctx: Ctx, name: string): string {
  return join(ctx.paths.stackDir, name);
}

const REQUIRED_TOOLS = [
  'ip',
  'nsenter',
  'unshare',
  'ssh',
  'ssh-keygen',
  'podman',
  'skopeo',
  'busybox',
  'mmdebstrap',
];

async function stageHost(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  if (process.getuid?.() !== 0)
    throw new AppError('LAB_FAILED', 'the quickstart needs root (namespaces, routes, podman)');
  const missing: string[] = [];
  const tools =
    ctx.config.deploy.driver === 'ansible' ? [...REQUIRED_TOOLS, 'ansible-playbook'] : REQUIRED_TOOLS;
  for (const t of tools) if ((await runProcess(['sh', '-c', `command -v ${t}`])).code !== 0) missing.push(t);
  if (!existsSync('/usr/sbin/sshd')) missing.push('sshd (openssh-server)');
  const conf = (await readOr('/etc/containers/containers.conf')) ?? '';
  const settings = [
    [/runtime\s*=\s*"runc"/, 'runtime = "runc"'],
    [/cgroup_manager\s*=\s*"cgroupfs"/, 'cgroup_manager = "cgroupfs"'],
    [/"nofile=/, 'default_ulimits nofile'],
    [/"nproc=/, 'default_ulimits nproc'],
  ] as const;
  const unset = settings.filter(([re]) => !re.test(conf)).map(([, what]) => what);
  if (missing.length > 0 || unset.length > 0)
    throw new AppError(
      'LAB_FAILED',
      `this host is not set up: ${[...missing.map((m) => `missing ${m}`), ...unset.map((u) => `containers.conf lacks ${u}`)].join(', ')}`,
      { hint: 'run ./scripts/setup-host.sh (./quickstart.sh does it for you)' },
    );
  return { changed: false, detail: 'tools and podman settings present' };
}

async function stageLab(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const r = await labUp(ctx.config, ctx.topo, (l) => ctx.opts.verbose && ctx.opts.err(`    ${l}`));
  const nodes = ctx.topo.nodes.map((n) => `${n.name} ${n.address}`).join(', ');
  return {
    changed: r.changes.length > 0,
    detail: `undercloud ${ctx.topo.undercloud.address}, ${nodes}${r.changes.length ? '' : ' (already up)'}`,
  };
}

async function stageRegistries(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const r = await ensureRegistries(ctx.config, ctx.topo, (l) => ctx.opts.verbose && ctx.opts.err(`    ${l}`));
  ctx.upstreamLoopback = r.upstreamLoopback;
  return {
    changed: r.changes.length > 0,
    detail: `upstream ${ctx.topo.upstreamRegistry} (pushed via ${r.upstreamLoopback}), undercloud ${ctx.topo.undercloudRegistry}${r.changes.length ? '' : ' (already running)'}`,
  };
}

async function stagePrepare(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const { config, topo } = ctx;
  const envFile = stackFile(ctx, 'docker_registry.yaml');
  const imagesFile = stackFile(ctx, 'overcloud_containers.yaml');
  const qsEnv = stackFile(ctx, 'quickstart-environment.yaml');
  const before = [await readOr(envFile), await readOr(imagesFile), await readOr(qsEnv)];
  await writeFile(qsEnv, quickstartEnvironment(config));
  const r = await overcloud(ctx, [
    'container',
    'image',
    'prepare',
    '--namespace',
    `${topo.upstreamRegistry}/${config.images.namespace}`,
    '--prefix',
    config.images.prefix,
    '--tag',
    config.images.tag,
    '--push-destination',
    topo.undercloudRegistry,
    ...envArgs(ctx),
    ...(config.deploy.rolesFile ? ['-r', config.deploy.rolesFile] : []),
    '--output-env-file',
    envFile,
    '--output-images-file',
    imagesFile,
    '-q',
  ]);
  if (r.code !== 0) throw failed('prepare', r, ctx.log);
  const after = [await readOr(envFile), await readOr(imagesFile), await readOr(qsEnv)];
  const count = imageNames(after[1] ?? '').length;
  // The env file's header names the time it was generated: compare what is below it.
  const body = (t: string | undefined): string | undefined => t?.replace(/^#.*\n/gm, '');
  const changed = before.some((b, i) => body(b) !== body(after[i]));
  return {
    changed,
    detail: `${count} images for the enabled services${changed ? '' : ' (files unchanged)'}`,
  };
}

/** envArgs: the config's environments (relative to the templates), then the topology's. */
function envArgs(ctx: Ctx): string[] {
  const files = ctx.config.deploy.environments.map((e) => (e.startsWith('/') ? e : join(ctx.templates, e)));
  return [...files, stackFile(ctx, 'quickstart-environment.yaml')].flatMap((f) => ['-e', f]);
}

function imageNames(imagesFileText: string): string[] {
  const doc = parse(imagesFileText) as { container_images?: { imagename?: string }[] } | null;
  return (doc?.container_images ?? [])
    .map((e) => e.imagename)
    .filter((x): x is string => typeof x === 'string');
}

async function stageBuild(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const { config } = ctx;
  const names = imageNames((await readOr(stackFile(ctx, 'overcloud_containers.yaml'))) ?? '');
  const recipes = await loadRecipes();
  const catalogue = await catalogueNames();
  const served = new Map<string, string>();
  for (const r of recipes.images.values()) for (const s of servedNames(r, catalogue)) served.set(s, r.name);
  const sel = selectBuild(names, config.images.prefix, served);
  if (sel.missing.length > 0)
    throw new AppError('QUICKSTART_STAGE_FAILED', `no image recipe serves ${sel.missing.join(', ')}`, {
      hint: 'leave those services out of the roles (deploy.parameter_defaults <Role>Services in the config); `overcloud image build --list --all` says why an image cannot be built',
    });
  if (!ctx.upstreamLoopback) throw new AppError('INTERNAL', 'registries stage did not run');
  const buildArgs = [
    'image',
    'build',
    '--include',
    includeRegex(sel.recipes),
    '--namespace',
    config.images.namespace,
    '--prefix',
    config.images.prefix,
    '--tag',
    config.images.tag,
    '--parallel',
    String(config.images.parallel),
  ];
  const r = await overcloud(ctx, [...buildArgs, '--json'], 'root');
  if (r.code !== 0) throw failed('build', r, ctx.log);
  const { built, unchanged } = jsonOutput<{ built: number; unchanged: number }>('build', r, ctx.log);
  // The names this build tags: every selected image and its parents, under each name they serve.
  const repos = new Set<string>();
  for (const name of sel.recipes)
    for (const n of [name, ...ancestors(recipes.images, name)]) {
      const recipe = recipes.images.get(n);
      if (recipe)
        for (const t of tagNames(recipe, catalogue))
          repos.add(`localhost/${config.images.namespace}/${config.images.prefix}${t}`);
    }
  const local = new Map(
    [...(await imagesNamed(`localhost/${config.images.namespace}/`))].filter(([name]) =>
      repos.has(name.replace(/:[^:]*$/, '')),
    ),
  );
  await recordBuiltNames(config, [...local.keys()]);
  // The builder pushes every image on every run (a skopeo copy per name and tag, ~2.5 s each even
  // when the registry has it all), so the push runs only when a local image differs from what was
  // last pushed into this upstream store, or the store lost a tag.
  const pushedFile = `${ctx.paths.upstreamRoot}.pushed.json`;
  const pushed = JSON.parse((await readOr(pushedFile)) ?? '{}') as Record<string, string>;
  const stale: [string, string][] = [];
  for (const [name, id] of local)
    if (pushed[name] !== id || !(await upstreamHasTag(ctx, name))) stale.push([name, id]);
  if (stale.length > 0) {
    const p = await overcloud(ctx, [...buildArgs, '--push', ctx.upstreamLoopback], 'root');
    if (p.code !== 0) throw failed('build', p, ctx.log);
    await writeFile(pushedFile, `${JSON.stringify(Object.fromEntries(local), null, 2)}\n`);
  }
  return {
    changed: built > 0 || stale.length > 0,
    detail: `${sel.recipes.length} images (with parents: ${built + unchanged}): built ${built}, cached ${unchanged}; ${
      stale.length > 0 ? `pushed ${local.size} name(s) upstream` : 'upstream already up to date'
    }`,
  };
}

/** upstreamHasTag: the upstream store holds `localhost/ns/repo:tag` as ns/repo:tag. */
async function upstreamHasTag(ctx: Ctx, localName: string): Promise<boolean> {
  const ref = parseReference(localName);
  const store = openLocalStore(ctx.paths.upstreamRoot);
  return (await store.headManifest(ref.repository, ref.tag ?? 'latest').catch(() => undefined)) !== undefined;
}

async function stageUpload(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const r = await overcloud(ctx, [
    'container',
    'image',
    'upload',
    '--config-file',
    stackFile(ctx, 'overcloud_containers.yaml'),
    '--insecure',
    ctx.topo.upstreamRegistry,
    '--json',
  ]);
  if (r.code !== 0) throw failed('upload', r, ctx.log);
  const summary = jsonOutput<{
    images_copied?: number;
    images_present?: number;
    bytes_transferred?: number;
    direct_stores?: Record<string, string>;
  }>('upload', r, ctx.log);
  const copied = summary.images_copied ?? 0;
  const mb = ((summary.bytes_transferred ?? 0) / 1e6).toFixed(0);
  return {
    changed: copied > 0,
    detail:
      `copied ${copied}, already present ${summary.images_present ?? 0} (${mb} MB) into ${ctx.topo.undercloudRegistry}` +
      (summary.direct_stores?.[ctx.topo.undercloudRegistry] ? ' (its store written in place)' : ''),
  };
}

function deployArgs(ctx: Ctx): string[] {
  return [
    '--templates',
    ctx.templates,
    ...envArgs(ctx),
    '-e',
    stackFile(ctx, 'docker_registry.yaml'),
    ...(ctx.config.deploy.rolesFile ? ['-r', ctx.config.deploy.rolesFile] : []),
    '--inventory',
    ctx.paths.inventory,
    '--state-dir',
    stackFile(ctx, 'state'),
  ];
}

async function stageDeploy(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  const r = await overcloud(ctx, [
    'deploy',
    ...deployArgs(ctx),
    '--health-timeout',
    String(ctx.config.deploy.healthTimeoutS),
    // TripleO's config-download: the playbook and its files stay in the stack folder for a look.
    ...(ctx.config.deploy.driver === 'ansible'
      ? ['--config-download', '--output-dir', stackFile(ctx, 'config-download')]
      : []),
    '--json',
  ]);
  // Registered even when the deploy failed: `overcloud container list|logs` then find what is there.
  await registerLabStack(ctx);
  if (r.code !== 0) throw failed('deploy', r, ctx.log);
  const doc = jsonOutput<DeployReportDoc>('deploy', r, ctx.log);
  return { changed: doc.changed, detail: deployDetail(doc) };
}

/**
 * registerLabStack makes the lab's stack the one `overcloud container list|logs`, `validate` and
 * `debug print-cmd` find without flags, entered through the undercloud namespace.
 */
async function registerLabStack(ctx: Ctx): Promise<void> {
  await registerStack({
    id: ctx.config.lab.name,
    stack: 'overcloud',
    stateDir: stackFile(ctx, 'state'),
    netns: `/run/netns/${ctx.topo.undercloud.ns}`,
    description: `quickstart --config ${ctx.config.path} (lab ${ctx.config.lab.name})`,
  });
}

/** deployDetail says in one line what the deploy did, as its own summary line does. */
function deployDetail(doc: DeployReportDoc): string {
  const c = doc.counts;
  const on = `on ${doc.nodes.length} node(s)`;
  if (!doc.changed) return `no changes: ${c.unchanged} containers unchanged ${on}`;
  return `deploy complete: did create ${c.create}, replace ${c.replace}, remove ${c.remove}, exec ${c.exec}; ${c.unchanged} unchanged ${on}`;
}

async function stageValidate(ctx: Ctx): Promise<Omit<StageOutcome, 'name' | 'seconds'>> {
  if (!ctx.config.validate)
    return { changed: false, skipped: true, detail: 'skipped (validate: false in the config)' };
  const r = await overcloud(ctx, ['validate', '--state-dir', stackFile(ctx, 'state'), '--json']);
  if (r.code !== 0) throw failed('validate', r, ctx.log);
  const v = jsonOutput<{ passed: number; total: number; seconds: number }>('validate', r, ctx.log);
  return { changed: false, detail: `${v.passed}/${v.total} checks passed in ${v.seconds.toFixed(1)} s` };
}

interface Row {
  node: string;
  name: string;
  status: string;
  health: string;
}

async function containerRows(ctx: Ctx): Promise<Row[]> {
  const r = await overcloud(ctx, [
    'container',
    'list',
    '--format',
    'json',
    '--state-dir',
    stackFile(ctx, 'state'),
  ]);
  if (r.code !== 0) throw failed('summary', r, ctx.log);
  return jsonOutput<Row[]>('summary', r, ctx.log);
}

type StageFn = (ctx: Ctx) => Promise<Omit<StageOutcome, 'name' | 'seconds'>>;

export const STAGES: [string, StageFn][] = [
  ['host', stageHost],
  ['lab', stageLab],
  ['registries', stageRegistries],
  ['prepare', stagePrepare],
  ['build', stageBuild],
  ['upload', stageUpload],
  ['deploy', stageDeploy],
  ['validate', stageValidate],
];

/** runQuickstart runs every stage in order and returns the report; a failing stage throws. */
export async function runQuickstart(
  config: QuickstartConfig,
  opts: QuickstartOptions,
): Promise<QuickstartReport> {
  const started = performance.now();
  const { topo, templates } = await loadTopology(config);
  const paths = labPaths(config);
  const ctx: Ctx = { config, topo, paths, opts, templates, log: '' };
  const stages: StageOutcome[] = [];
  const width = Math.max(...STAGES.map(([n]) => n.length));
  for (const [i, [name, fn]] of STAGES.entries()) {
    const t0 = performance.now();
    ctx.log = join(paths.logs, `${name}.log`);
    if (name === 'host' || name === 'lab') ctx.log = '/dev/null';
    if (opts.verbose) opts.err(`[${i + 1}/${STAGES.length}] ${name} ...`);
    const r = await fn(ctx);
    if (name === 'lab') {
      // From here on the lab dir exists: stage logs go there.
      await mkdir(paths.stackDir, { recursive: true });
    }
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ name, seconds, ...r });
    const mark = r.skipped ? '-' : r.changed ? '*' : '=';
    opts.out(
      `[${i + 1}/${STAGES.length}] ${mark} ${name.padEnd(width)} ${formatDuration(seconds).padStart(10)}  ${r.detail}`,
    );
  }
  const rows = await containerRows(ctx);
  const nodes = topo.nodes.map((n) => {
    const mine = rows.filter((r) => r.node === n.name);
    const services = mine.filter((r) => !/^exited/.test(r.status));
    return {
      name: n.name,
      role: n.role,
      address: n.address,
      containers: services.length,
      running: services.filter((r) => r.status === 'running').length,
      healthy: services.filter((r) => r.health === 'healthy' || r.health === '').length,
    };
  });
  const rcCandidates = [stackFile(ctx, 'state/overcloudrc'), stackFile(ctx, 'overcloudrc')];
  const overcloudrc = rcCandidates.find((p) => existsSync(p));
  const v = verdict(stages);
  return {
    stages,
    converged: v.converged,
    seconds: (performance.now() - started) / 1000,
    nodes,
    ...(overcloudrc ? { overcloudrc } : {}),
  };
}

/** summaryLines prints the report and the commands to look around. */
export function summaryLines(config: QuickstartConfig, report: QuickstartReport, topo: Topology): string[] {
  const paths = labPaths(config);
  const v = verdict(report.stages);
  const unhealthy = report.nodes.filter((n) => n.running < n.containers || n.healthy < n.containers);
  const lines = [
    '',
    `overcloud quickstart: ${report.nodes.length} node(s) in ${formatDuration(report.seconds)}${
      v.converged ? ' - converged: this run changed nothing' : ` - changed: ${v.changed.join(', ')}`
    }`,
    ...report.nodes.map(
      (n) =>
        `  ${n.name.padEnd(26)} ${n.role.padEnd(11)} ${n.address.padEnd(15)} ${n.running}/${n.containers} containers running, ${n.healthy} healthy`,
    ),
    `  overcloudrc: ${report.overcloudrc ?? 'not written by this deploy (the service templates write none yet)'}`,
    ...(unhealthy.length
      ? [`  WARNING: not all containers run healthy on ${unhealthy.map((n) => n.name).join(', ')}`]
      : []),
    '',
    "Look around (as root; the lab is this machine's registered stack, entered by itself):",
    '  bin/overcloud container list',
    `  bin/overcloud container logs ${topo.nodes[0]?.name ?? 'NODE'} keystone`,
    '  bin/overcloud validate',
    `  nsenter --net=/run/netns/${topo.undercloud.ns} ssh -F ${paths.sshConfig} ${topo.nodes[0]?.name ?? 'NODE'} podman ps`,
    `  nsenter --net=/run/netns/${topo.undercloud.ns} bin/overcloud container image list ${topo.undercloudRegistry}`,
    `  less ${paths.logs}/deploy.log      # every stage's full output is in ${paths.logs}/`,
    ...(config.deploy.driver === 'ansible'
      ? [
          `  cd ${paths.stackDir}/config-download && nsenter --net=/run/netns/${topo.undercloud.ns} ansible-playbook deploy_steps_playbook.yaml    # the deploy, by hand`,
        ]
      : []),
    `  ./quickstart.sh --config ${config.path} --teardown    # remove the lab (add --purge for the images too)`,
  ];
  return lines;
}

/** teardown removes the lab (and with purge the built images and the upstream store). */
export async function teardown(
  config: QuickstartConfig,
  purge: boolean,
  opts: QuickstartOptions,
): Promise<string[]> {
  const { topo } = await loadTopology(config);
  const r = await labDown(config, topo, { purge }, (l) => opts.verbose && opts.err(`    removed ${l}`));
  await unregisterStack(config.lab.name);
  return r.removed;
}

export { loadTopology };
