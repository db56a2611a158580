/**
 * @module deploy/apply
 * Converges nodes onto a plan with paunch's semantics (research §3.5): read each node's labelled
 * containers and images; pull what is missing (any failure aborts before anything changes); write the
 * config files; then steps 1..5 in lockstep across nodes, and per node: remove changed and departed
 * containers, run entries by start_order, exec, and wait for health checks before the next step. A
 * failure stops the deploy after the step it happened in, with the container's exit code and logs.
 */
import { AppError } from '../errors.js';
import type { NodeConnection } from '../process/index.js';
import { describeFailure } from '../process/index.js';
import { mapLimit } from '../util/concurrency.js';
import type { ApplyOptions } from './apply-options.js';
import { describe, diffStep, needsWork, type StepAction, type StepDiff } from './diff.js';
import { syncScript } from './files.js';
import { type DeployPlan, STEPS } from './plan.js';
import { type NodeState, pullMissing, readState } from './state.js';

export type { ApplyOptions } from './apply-options.js';

import { applyNodeStep, formatFailure, type StepFailure } from './step.js';

export interface ApplyReport {
  diffs: Map<string, StepDiff[]>;
  counts: Record<StepAction['kind'], number>;
  changedFiles: string[];
  pulled: string[];
  failure?: StepFailure;
}

export const emptyCounts = (): ApplyReport['counts'] => ({
  create: 0,
  replace: 0,
  remove: 0,
  unchanged: 0,
  exec: 0,
  'skip-exec': 0,
});

/** pullFailed is the error of a pull that failed on any node: raised before anything changed. */
export function pullFailed(errors: string[]): AppError {
  return new AppError(
    'PULL_FAILED',
    `cannot pull ${errors.length} image(s); nothing was changed:\n  ${errors.join('\n  ')}`,
    {
      hint: 'check the Docker*Image parameters and that the nodes can reach the registry (DockerInsecureRegistryAddress for plain HTTP)',
    },
  );
}

/** syncConfig writes one node's config files; it returns `node: what` for each thing it rewrote. */
export async function syncConfig(s: NodeState): Promise<string[]> {
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
}

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
    if (errors.length > 0) throw pullFailed(errors);
    report.pulled = pulls.flatMap((p) => p.pulled);
    for (const p of report.pulled) opts.out(`[pull] ${p}`);
    if (report.pulled.length > 0)
      opts.out(
        `[pull] ${report.pulled.length} image(s) in ${((Date.now() - pullStarted) / 1000).toFixed(1)} s`,
      );
    const synced = await mapLimit(states, opts.concurrency, syncConfig);
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
    if (opts.dryRun || !diffs.some(needsWork)) continue;
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
