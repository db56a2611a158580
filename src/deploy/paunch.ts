/**
 * @module deploy/paunch
 * The node side of the Ansible driver (`overcloud paunch pull|config|apply`), TripleO's paunch on each
 * node: the same pull, config sync, diff, apply and health-wait code as the SSH engine, through a local
 * podman connection. The playbook calls it once per phase and step, so Ansible keeps the steps in
 * lockstep across nodes while each node converges itself.
 *
 * State between the calls of one deploy lives in the node folder (`--node-dir`, 0700): the node's plan
 * (`node-plan.json`, 0600: it holds passwords) and `run.json`, the containers (re)created so far in
 * this deploy (a later step's exec runs only into a recreated target, as in the SSH engine).
 * Every call prints progress lines, then one JSON line: the result Ansible's `changed_when` and the
 * controller read.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { describeFailure, localConnection, type Runner } from '../process/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type ApplyReport, emptyCounts, syncConfig } from './apply.js';
import { describe, diffStep, needsWork, predictSteps } from './diff.js';
import { driftScript } from './files.js';
import { nodePlanDoc, parseNodePlanDoc } from './node-plan-doc.js';
import { type NodePlan, STEPS } from './plan.js';
import { type NodeState, pullMissing, readState } from './state.js';
import { applyNodeStep, formatFailure, type StepFailure } from './step.js';

export type Counts = ApplyReport['counts'];

/** The JSON line every `overcloud paunch` call ends with. */
export interface PaunchResult {
  node: string;
  phase: 'pull' | 'config' | 'apply';
  changed: boolean;
  step?: number;
  pulled?: string[];
  pullErrors?: string[];
  changedFiles?: string[];
  /** pull: whether the config files on disk differ from the plan (else the config phase is skipped). */
  config?: boolean;
  /** pull: the steps that have work on this node (the others are skipped by the playbook). */
  steps?: number[];
  /** pull: the predicted actions per step; apply: the actions done in its step. */
  counts?: Record<string, Counts>;
  failure?: StepFailure;
}

export const NODE_PLAN_FILE = 'node-plan.json';
const RUN_FILE = 'run.json';

interface Context {
  nodeDir: string;
  run: Runner;
  out: (line: string) => void;
}

const changedCount = (c: Counts): number => c.create + c.replace + c.remove + c.exec;

async function loadPlan(nodeDir: string): Promise<NodePlan> {
  const file = join(nodeDir, NODE_PLAN_FILE);
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT')
      throw new AppError('FILE_NOT_FOUND', `${file} does not exist`, {
        hint: 'run `overcloud paunch pull` first (the playbook does)',
      });
    throw e;
  });
  return parseNodePlanDoc(text, file);
}

async function nodeState(ctx: Context, plan: NodePlan, recreated: string[] = []): Promise<NodeState> {
  const conn = localConnection(plan.node, ctx.run);
  return { conn, plan, ...(await readState(conn)), recreated: new Set(recreated) };
}

async function saveRun(nodeDir: string, recreated: Iterable<string>): Promise<void> {
  await writeFileAtomic(join(nodeDir, RUN_FILE), `${JSON.stringify({ recreated: [...recreated] })}\n`, {
    mode: 0o600,
  });
}

async function loadRun(nodeDir: string): Promise<string[]> {
  const file = join(nodeDir, RUN_FILE);
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as { recreated?: unknown };
    if (Array.isArray(v.recreated)) return v.recreated.map(String);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  throw new AppError('FILE_NOT_FOUND', `${file} is missing or unreadable`, {
    hint: 'run `overcloud paunch config` first (the playbook does)',
  });
}

/** decodePlan accepts the plan as JSON or as base64 of JSON (what the playbook sends on stdin). */
export function decodePlan(input: string): string {
  const t = input.trim();
  return t.startsWith('{') ? t : Buffer.from(t, 'base64').toString('utf8');
}

/**
 * paunchPull stores the node's plan, pulls the images it lacks, and then, reading only, predicts every
 * step (carrying "recreated" forward as a dry run does) and checks whether the config files on disk
 * differ. The playbook skips the config phase and the steps with nothing to do, so a no-op deploy is
 * this one call per node.
 */
export async function paunchPull(
  ctx: Context,
  planText: string,
  opts: { pull: 'missing' | 'always'; insecureRegistries: ReadonlySet<string> },
): Promise<PaunchResult> {
  const plan = parseNodePlanDoc(decodePlan(planText), 'the node plan on stdin');
  await mkdir(ctx.nodeDir, { recursive: true, mode: 0o700 });
  // Stored in its canonical form: the next phases and an operator read the same file.
  await writeFileAtomic(
    join(ctx.nodeDir, NODE_PLAN_FILE),
    `${JSON.stringify(nodePlanDoc(plan), null, 1)}\n`,
    {
      mode: 0o600,
    },
  );
  const s = await nodeState(ctx, plan);
  const { pulled, errors } = await pullMissing(s, opts);
  for (const p of pulled) ctx.out(`[pull] ${p}`);
  for (const e of errors) ctx.out(`[pull] FAILED ${e}`);
  const base = { node: plan.node.name, phase: 'pull' as const, changed: pulled.length > 0, pulled };
  if (errors.length > 0) return { ...base, pullErrors: errors };

  const drift = await s.conn.shell(driftScript(plan), { timeoutMs: 60_000 });
  if (drift.code !== 0)
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `node ${plan.node.name}: checking the config files failed: ${describeFailure(drift)}`,
    );
  const configDrift = drift.stdout.split('\n').filter((l) => l.startsWith('differs '));
  const steps: number[] = [];
  const counts: Record<string, Counts> = {};
  for (const d of predictSteps(plan, s.observed, s.images)) {
    const c = emptyCounts();
    for (const a of d.actions) c[a.kind]++;
    counts[d.step] = c;
    if (needsWork(d)) steps.push(d.step);
  }
  await saveRun(ctx.nodeDir, []);
  const idle = STEPS.filter((x) => !steps.includes(x));
  const unchanged = idle.reduce((n, x) => n + (counts[x]?.unchanged ?? 0), 0);
  ctx.out(
    `[steps] ${plan.node.name}: ${configDrift.length > 0 ? `config differs (${configDrift.length}); ` : ''}${steps.length > 0 ? `work in step ${steps.join(', ')}` : 'no step has work'}${idle.length > 0 ? `; step ${idle.join(', ')} unchanged (${unchanged} containers)` : ''}`,
  );
  return { ...base, config: configDrift.length > 0, steps, counts };
}

/** paunchConfig writes the config files of the stored plan (docker-puppet's part). */
export async function paunchConfig(ctx: Context): Promise<PaunchResult> {
  const plan = await loadPlan(ctx.nodeDir);
  const changedFiles = await syncConfig({
    conn: localConnection(plan.node, ctx.run),
    plan,
    observed: [],
    images: new Map(),
    recreated: new Set(),
  });
  for (const f of changedFiles) ctx.out(`[config] ${f}`);
  return { node: plan.node.name, phase: 'config', changed: changedFiles.length > 0, changedFiles };
}

/** paunchApply carries out one step on this node: diff, remove, run, exec, health waits. */
export async function paunchApply(
  ctx: Context,
  step: number,
  opts: { healthTimeoutMs: number },
): Promise<PaunchResult> {
  const plan = await loadPlan(ctx.nodeDir);
  const s = await nodeState(ctx, plan, await loadRun(ctx.nodeDir));
  const d = diffStep(plan, step, s.observed, s.images, s.recreated);
  const counts = emptyCounts();
  for (const a of d.actions) {
    counts[a.kind]++;
    ctx.out(`[step ${step}] ${plan.node.name}: ${describe(a)}`);
  }
  const started = Date.now();
  const failure = needsWork(d) ? await applyNodeStep(s, d, opts) : undefined;
  await saveRun(ctx.nodeDir, s.recreated);
  if (failure) ctx.out(formatFailure(failure));
  else
    ctx.out(`[step ${step}] ${plan.node.name}: applied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    node: plan.node.name,
    phase: 'apply',
    step,
    changed: changedCount(counts) > 0,
    counts: { [step]: counts },
    ...(failure ? { failure } : {}),
  };
}
