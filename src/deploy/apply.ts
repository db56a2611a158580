/**
 * @module deploy/apply
 * Converges nodes onto a plan with paunch's semantics (research §3.5): read each node's labelled
 * containers and images; pull what is missing (any failure aborts before anything changes); write the
 * config files; then steps 1..5 in lockstep across nodes, and per node: remove changed and departed
 * containers, run entries by start_order, exec, and wait for health checks before the next step. A
 * failure stops the deploy after the step it happened in, with the container's exit code and logs.
 */
import { AppError } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import { describe, diffStep, isNoop, type StepAction, type StepDiff } from './diff.js';
import { describeFailure, type ProcessResult } from './exec.js';
import { syncScript } from './files.js';
import { waitHealthy } from './health.js';
import type { NodeConnection } from './node.js';
import { type ObservedContainer, parseImages, parsePs } from './observed.js';
import { type DeployPlan, type NodePlan, STEPS } from './plan.js';
import { execArgs, runArgs } from './podman-args.js';

export interface ApplyOptions {
  dryRun: boolean;
  healthTimeoutMs: number;
  /** missing: pull only absent images (paunch); always: also re-pull present tags. */
  pull: 'missing' | 'always';
  /** Registry hosts reached over plain HTTP (DockerInsecureRegistryAddress). */
  insecureRegistries: ReadonlySet<string>;
  /** Nodes worked on at once. */
  concurrency: number;
  out: (line: string) => void;
}

export interface StepFailure {
  node: string;
  step: number;
  container: string;
  exitCode: number | null;
  reason: string;
  logs: string;
}

export interface ApplyReport {
  diffs: Map<string, StepDiff[]>;
  counts: Record<StepAction['kind'], number>;
  changedFiles: string[];
  pulled: string[];
  failure?: StepFailure;
}

interface NodeState {
  conn: NodeConnection;
  plan: NodePlan;
  observed: ObservedContainer[];
  images: Map<string, string>;
  recreated: Set<string>;
}

const STATE_SCRIPT =
  'podman ps -a --filter label=managed_by --format json && echo @@@ && podman images --format json\n';
const LOG_LINES = 20;

/** readState asks a node for its managed containers and local images in one round trip. */
export async function readState(
  conn: NodeConnection,
): Promise<{ observed: ObservedContainer[]; images: Map<string, string> }> {
  const r = await conn.shell(STATE_SCRIPT, { timeoutMs: 60_000 });
  if (r.code !== 0)
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `node ${conn.node.name}: cannot list containers: ${describeFailure(r)}`,
    );
  const [ps = '', images = ''] = r.stdout.split('\n@@@\n');
  return { observed: parsePs(ps), images: parseImages(images) };
}

/** registryHost is the registry part of an image reference, if it names one. */
export function registryHost(image: string): string | undefined {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
    ? first
    : undefined;
}

async function pullMissing(
  s: NodeState,
  opts: ApplyOptions,
): Promise<{ pulled: string[]; errors: string[] }> {
  const wanted = s.plan.images.filter((i) => opts.pull === 'always' || !s.images.has(i));
  const errors: string[] = [];
  const results = await mapLimit(wanted, 4, async (image) => {
    const host = registryHost(image);
    const tls = host && opts.insecureRegistries.has(host) ? ['--tls-verify=false'] : [];
    const r = await s.conn.podman(['pull', '-q', ...tls, image], { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) errors.push(`${s.conn.node.name}: ${image}: ${describeFailure(r)}`);
    return r;
  });
  if (wanted.length > 0 && errors.length === 0) s.images = (await readState(s.conn)).images;
  return {
    pulled: wanted.filter((_, i) => results[i]?.code === 0).map((i) => `${s.conn.node.name}: ${i}`),
    errors,
  };
}

async function logsOf(conn: NodeConnection, name: string): Promise<string> {
  const r = await conn.podman(['logs', '--tail', String(LOG_LINES), name], { timeoutMs: 30_000 });
  return `${r.stdout}${r.stderr}`.trimEnd();
}

async function failed(
  conn: NodeConnection,
  step: number,
  name: string,
  r: ProcessResult | undefined,
  reason: string,
): Promise<StepFailure> {
  return {
    node: conn.node.name,
    step,
    container: name,
    exitCode: r?.code ?? null,
    reason,
    logs: await logsOf(conn, name),
  };
}

/** applyNodeStep carries out one node's diff for one step. */
async function applyNodeStep(
  s: NodeState,
  diff: StepDiff,
  opts: ApplyOptions,
): Promise<StepFailure | undefined> {
  const { conn } = s;
  const doomed = diff.actions.flatMap((a) =>
    a.kind === 'remove' || a.kind === 'replace' ? [a.observed.id] : [],
  );
  if (doomed.length > 0) {
    const r = await conn.podman(['rm', '-f', '-t', '0', ...doomed], { timeoutMs: 120_000 });
    if (r.code !== 0)
      return {
        node: conn.node.name,
        step: diff.step,
        container: doomed.join(' '),
        exitCode: r.code,
        reason: `podman rm failed: ${describeFailure(r)}`,
        logs: '',
      };
  }
  const health: string[] = [];
  const started: string[] = [];
  for (const a of diff.actions) {
    if (a.kind === 'create' || a.kind === 'replace') {
      const c = a.container;
      const r = await conn.podman(runArgs({ ...c, managedBy: s.plan.managedBy }), { timeoutMs: 30 * 60_000 });
      s.recreated.add(c.name);
      if (c.spec.detach) {
        if (r.code !== 0)
          return failed(conn, diff.step, c.name, r, `podman run failed: ${describeFailure(r)}`);
        started.push(c.name);
        if (c.spec.healthcheck) health.push(c.name);
      } else if (r.code === null || !c.spec.exit_codes.includes(r.code)) {
        return failed(
          conn,
          diff.step,
          c.name,
          r,
          `exited with ${r.code ?? r.signal}, expected ${c.spec.exit_codes.join(' or ')}`,
        );
      }
    } else if (a.kind === 'exec') {
      const r = await conn.podman(execArgs(a.container.spec), { timeoutMs: 30 * 60_000 });
      if (r.code === null || !a.container.spec.exit_codes.includes(r.code)) {
        const target = a.container.spec.command?.[0] ?? '';
        const f = await failed(
          conn,
          diff.step,
          target,
          r,
          `exec ${a.container.name} exited with ${r.code ?? r.signal}: ${describeFailure(r)}`,
        );
        return { ...f, container: a.container.name };
      }
    } else if (a.kind === 'unchanged' && a.container.spec.healthcheck && a.observed.health !== 'healthy') {
      health.push(a.container.name); // never confirmed healthy (e.g. an earlier deploy stopped): confirm now
    }
  }
  const h = await waitHealthy(conn, health, opts.healthTimeoutMs);
  if (!h.ok) return failed(conn, diff.step, h.name, undefined, h.reason);
  // Detached containers without a health check must at least still be running.
  if (started.length > 0) {
    const { observed } = await readState(conn);
    for (const name of started) {
      const o = observed.find((x) => x.name === name);
      if (o && o.state !== 'running' && o.state !== 'restarting') {
        return {
          ...(await failed(conn, diff.step, name, undefined, `container is ${o.state}`)),
          exitCode: o.exitCode,
        };
      }
    }
  }
  return undefined;
}

const emptyCounts = (): ApplyReport['counts'] => ({
  create: 0,
  replace: 0,
  remove: 0,
  unchanged: 0,
  exec: 0,
  'skip-exec': 0,
});

/** applyPlan converges all nodes (or, with dryRun, only reports what it would do). */
export async function applyPlan(
  plan: DeployPlan,
  conns: NodeConnection[],
  opts: ApplyOptions,
): Promise<ApplyReport> {
  const byName = new Map(conns.map((c) => [c.node.name, c]));
  const states: NodeState[] = await mapLimit(plan.nodes, opts.concurrency, async (p) => {
    const conn = byName.get(p.node.name);
    if (!conn) throw new AppError('INTERNAL', `no connection for node ${p.node.name}`);
    return { conn, plan: p, ...(await readState(conn)), recreated: new Set<string>() };
  });
  const report: ApplyReport = { diffs: new Map(), counts: emptyCounts(), changedFiles: [], pulled: [] };

  if (opts.dryRun) {
    for (const s of states)
      for (const i of s.plan.images)
        if (!s.images.has(i)) opts.out(`[pull] ${s.conn.node.name}: would pull ${i}`);
  } else {
    const pullStarted = Date.now();
    const pulls = await mapLimit(states, opts.concurrency, (s) => pullMissing(s, opts));
    const errors = pulls.flatMap((p) => p.errors);
    if (errors.length > 0) {
      throw new AppError(
        'PULL_FAILED',
        `cannot pull ${errors.length} image(s); nothing was changed:\n  ${errors.join('\n  ')}`,
        {
          hint: 'check the Docker*Image parameters and that the nodes can reach the registry (DockerInsecureRegistryAddress for plain HTTP)',
        },
      );
    }
    report.pulled = pulls.flatMap((p) => p.pulled);
    for (const p of report.pulled) opts.out(`[pull] ${p}`);
    if (report.pulled.length > 0)
      opts.out(
        `[pull] ${report.pulled.length} image(s) in ${((Date.now() - pullStarted) / 1000).toFixed(1)} s`,
      );
    const synced = await mapLimit(states, opts.concurrency, async (s) => {
      const r = await s.conn.shell(syncScript(s.plan), { timeoutMs: 120_000 });
      if (r.code !== 0)
        throw new AppError(
          'NODE_COMMAND_FAILED',
          `node ${s.conn.node.name}: writing config files failed: ${describeFailure(r)}`,
        );
      return r.stdout
        .split('\n')
        .filter((l) => l.startsWith('changed '))
        .map((l) => `${s.conn.node.name}: ${l.slice(8)}`);
    });
    report.changedFiles = synced.flat();
    for (const f of report.changedFiles) opts.out(`[config] ${f}`);
  }

  for (const step of STEPS) {
    const diffs = states.map((s) => diffStep(s.plan, step, s.observed, s.images, s.recreated));
    states.forEach((s, i) => {
      const d = diffs[i] as StepDiff;
      report.diffs.set(s.conn.node.name, [...(report.diffs.get(s.conn.node.name) ?? []), d]);
      for (const a of d.actions) {
        report.counts[a.kind]++;
        opts.out(`[step ${step}] ${s.conn.node.name}: ${describe(a)}`);
        // A dry run has to carry "what would be recreated" forward for later steps' execs.
        if (opts.dryRun && (a.kind === 'create' || a.kind === 'replace')) s.recreated.add(a.container.name);
      }
    });
    if (
      opts.dryRun ||
      diffs.every(
        (d) =>
          isNoop(d) &&
          !d.actions.some(
            (a) => a.kind === 'unchanged' && a.container.spec.healthcheck && a.observed.health !== 'healthy',
          ),
      )
    )
      continue;
    const stepStarted = Date.now();
    const failures = (
      await mapLimit(states, opts.concurrency, (s, i) => applyNodeStep(s, diffs[i] as StepDiff, opts))
    ).filter((f): f is StepFailure => f !== undefined);
    opts.out(`[step ${step}] applied in ${((Date.now() - stepStarted) / 1000).toFixed(1)} s`);
    if (failures.length > 0) {
      report.failure = failures[0];
      for (const f of failures) opts.out(formatFailure(f));
      break;
    }
  }
  return report;
}

/** formatFailure shows what an operator needs: where, which container, exit code, last log lines. */
export function formatFailure(f: StepFailure): string {
  const logs = f.logs
    ? f.logs
        .split('\n')
        .map((l) => `    | ${l}`)
        .join('\n')
    : '    (no log output)';
  return [
    `[step ${f.step}] ${f.node}: FAILED ${f.container}: ${f.reason}${f.exitCode === null ? '' : ` (exit code ${f.exitCode})`}`,
    `  last ${LOG_LINES} log lines of ${f.container}:`,
    logs,
  ].join('\n');
}
