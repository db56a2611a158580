/**
 * @module deploy/diff
 * paunch's apply decision (research §3.5), per node and step, as data: which containers to create,
 * replace (and why: the changed field), remove, leave alone, and which execs to run. Pure, so that
 * `--dry-run` and apply share it and tests need no podman.
 */

import type { ObservedContainer } from './observed.js';
import { configIdOf, type NodePlan, type PlannedContainer, STEPS } from './plan.js';

export type StepAction =
  | { kind: 'create'; container: PlannedContainer }
  | { kind: 'replace'; container: PlannedContainer; observed: ObservedContainer; reasons: string[] }
  | { kind: 'remove'; observed: ObservedContainer; reason: string }
  | { kind: 'unchanged'; container: PlannedContainer; observed: ObservedContainer }
  | { kind: 'exec'; container: PlannedContainer; reason: string }
  | { kind: 'skip-exec'; container: PlannedContainer };

export interface StepDiff {
  step: number;
  /** Removals first (paunch deletes before it runs), then entries in start_order. */
  actions: StepAction[];
}

const STEP_IDS = new Set(STEPS.map(configIdOf));

/** changedFields compares the config_data label with the planned spec, key by key. */
export function changedFields(planned: PlannedContainer, observed: ObservedContainer): string[] {
  const label = observed.labels.config_data;
  if (label === undefined) return ['config_data label missing'];
  let old: Record<string, unknown>;
  try {
    old = JSON.parse(label) as Record<string, unknown>;
  } catch {
    return ['config_data label unreadable'];
  }
  const now = JSON.parse(planned.configData) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].sort();
  const changed: string[] = [];
  for (const k of keys) {
    if (JSON.stringify(old[k]) === JSON.stringify(now[k])) continue;
    if (k === 'environment') changed.push(`environment (${envChanges(old[k], now[k]).join(', ')})`);
    else changed.push(k);
  }
  return changed;
}

function envChanges(a: unknown, b: unknown): string[] {
  const toMap = (v: unknown): Map<string, string> =>
    new Map(
      (Array.isArray(v) ? v.map(String) : []).map((e) => {
        const i = e.indexOf('=');
        return [i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1)];
      }),
    );
  const x = toMap(a);
  const y = toMap(b);
  return [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k)).sort();
}

/** healthReasons says why an unchanged-config container must still be recreated to converge. */
function stateReasons(
  c: PlannedContainer,
  o: ObservedContainer,
  imageIds: ReadonlyMap<string, string>,
): string[] {
  const reasons: string[] = [];
  const id = c.spec.image ? imageIds.get(c.spec.image) : undefined;
  if (id !== undefined && o.imageId !== '' && id !== o.imageId)
    reasons.push(`image id (${c.spec.image} now ${id.slice(0, 12)})`);
  if (c.spec.detach) {
    if (o.state !== 'running') reasons.push(`not running (${o.state})`);
    else if (o.health === 'unhealthy') reasons.push('unhealthy');
  } else if (o.state !== 'running' && !c.spec.exit_codes.includes(o.exitCode)) {
    reasons.push(`last run failed (exit ${o.exitCode})`);
  }
  return reasons;
}

/**
 * diffStep decides one step on one node. `recreated` holds the names of containers created or
 * replaced earlier in this apply; an exec runs when its target is among them (or in this step), so a
 * no-op deploy runs nothing. paunch ran every exec on every apply; we do not, on purpose.
 */
export function diffStep(
  plan: NodePlan,
  step: number,
  observed: ObservedContainer[],
  imageIds: ReadonlyMap<string, string>,
  recreated: ReadonlySet<string>,
): StepDiff {
  const planned = plan.steps.get(step) ?? [];
  const configId = configIdOf(step);
  const mine = observed.filter(
    (o) =>
      (o.labels.config_id === configId && o.labels.managed_by === plan.managedBy) ||
      // Containers of another role (the node changed role) or an unknown config id go in step 1.
      (step === 1 && (!STEP_IDS.has(o.labels.config_id ?? '') || o.labels.managed_by !== plan.managedBy)),
  );
  const byName = new Map(mine.map((o) => [o.labels.container_name ?? o.name, o]));
  const wanted = new Set(planned.map((c) => c.name));
  const removals: StepAction[] = mine
    .filter(
      (o) =>
        !wanted.has(o.labels.container_name ?? o.name) ||
        o.labels.config_id !== configId ||
        o.labels.managed_by !== plan.managedBy,
    )
    .map((o) => ({
      kind: 'remove',
      observed: o,
      reason: wanted.has(o.labels.container_name ?? o.name)
        ? 'moved to another step or role'
        : 'no longer in the config',
    }));
  const removed = new Set(removals.map((r) => (r.kind === 'remove' ? r.observed.id : '')));
  const started = new Set(recreated);
  const actions: StepAction[] = [];
  for (const c of planned) {
    if (c.spec.action === 'exec') {
      const target = c.spec.command?.[0] ?? '';
      actions.push(
        started.has(target)
          ? { kind: 'exec', container: c, reason: `${target} was (re)created` }
          : { kind: 'skip-exec', container: c },
      );
      continue;
    }
    const o = byName.get(c.name);
    if (!o || removed.has(o.id)) {
      actions.push({ kind: 'create', container: c });
      started.add(c.name);
      continue;
    }
    const reasons = [...changedFields(c, o), ...stateReasons(c, o, imageIds)];
    if (reasons.length > 0) {
      actions.push({ kind: 'replace', container: c, observed: o, reasons });
      started.add(c.name);
    } else actions.push({ kind: 'unchanged', container: c, observed: o });
  }
  return { step, actions: [...removals, ...actions] };
}

/**
 * predictSteps diffs every step from one reading of a node, carrying "recreated" forward as a dry run
 * does (a later step's exec runs when its target is created or replaced earlier).
 */
export function predictSteps(
  plan: NodePlan,
  observed: ObservedContainer[],
  imageIds: ReadonlyMap<string, string>,
): StepDiff[] {
  const recreated = new Set<string>();
  return STEPS.map((step) => {
    const d = diffStep(plan, step, observed, imageIds, recreated);
    for (const a of d.actions)
      if (a.kind === 'create' || a.kind === 'replace') recreated.add(a.container.name);
    return d;
  });
}

/** isNoop tells whether a diff changes nothing. */
export const isNoop = (d: StepDiff): boolean =>
  d.actions.every((a) => a.kind === 'unchanged' || a.kind === 'skip-exec');

/** unconfirmedHealth: an unchanged container whose health check never passed (an earlier deploy stopped). */
export const unconfirmedHealth = (a: StepAction): boolean =>
  a.kind === 'unchanged' && a.container.spec.healthcheck !== undefined && a.observed.health !== 'healthy';

/** needsWork tells whether applying a step diff would run any podman command. */
export const needsWork = (d: StepDiff): boolean => !isNoop(d) || d.actions.some(unconfirmedHealth);

/** describe renders one action as a line of the dry-run report. */
export function describe(a: StepAction): string {
  switch (a.kind) {
    case 'create':
      return `create    ${a.container.name}${a.container.bootstrap ? ' (bootstrap node)' : ''}`;
    case 'replace':
      return `replace   ${a.container.name}: ${a.reasons.join('; ')}`;
    case 'remove':
      return `remove    ${a.observed.labels.container_name ?? a.observed.name}: ${a.reason}`;
    case 'unchanged':
      return `unchanged ${a.container.name}`;
    case 'exec':
      return `exec      ${a.container.name}: ${a.reason}`;
    case 'skip-exec':
      return `unchanged ${a.container.name} (exec: target not recreated)`;
  }
}
