/**
 * @module deploy/step
 * One node, one step, as paunch applied a config: remove what changed or left, run entries in
 * start_order (a non-detached one must exit with one of its exit_codes), exec into (re)created
 * targets, then wait for health checks. The first failure ends the node's step, with the exit code and
 * the container's last log lines.
 */

import type { NodeConnection } from '../process/index.js';
import { describeFailure, type ProcessResult } from '../process/index.js';
import type { ApplyOptions } from './apply-options.js';
import { type StepDiff, unconfirmedHealth } from './diff.js';
import { waitHealthy } from './health.js';
import { execArgs, runArgs } from './podman-args.js';
import { type NodeState, readState } from './state.js';

export const LOG_LINES = 20;

export interface StepFailure {
  node: string;
  step: number;
  container: string;
  exitCode: number | null;
  reason: string;
  logs: string;
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
export async function applyNodeStep(
  s: NodeState,
  diff: StepDiff,
  opts: Pick<ApplyOptions, 'healthTimeoutMs'>,
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
    } else if (a.kind === 'unchanged' && unconfirmedHealth(a)) {
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
