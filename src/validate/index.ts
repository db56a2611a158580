/**
 * @module validate
 * `overcloud validate` as a library call: read the stack's overcloudrc and services.json, run the
 * selected checks in order through the `openstack` client, print each with its time; on a failure,
 * name the service and show the last log lines of its containers (read over the deploy's own node
 * connections). Everything a run creates is deleted at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerLogs, listContainers, loadRecord } from '../deploy/index.js';
import { AppError, errorMessage } from '../errors.js';
import { connectAll, runProcess } from '../process/index.js';
import { limiter } from '../util/concurrency.js';
import { CATALOGUE_TYPES, type Check, type CheckContext, cleanup, selectChecks } from './checks.js';
import { nodeAccess } from './nodes.js';
import { openstackClient } from './openstack.js';
import { rcFile, readOvercloudrc, readServices, type ServiceMap } from './overcloudrc.js';

export { type OpenStackClient, openstackClient } from './openstack.js';
export { forgetNodes, rcFile, readOvercloudrc, readServices, type ServiceMap } from './overcloudrc.js';

export interface ValidateOptions {
  stateDir: string;
  rcFile?: string;
  only?: string[];
  logLines: number;
  out: (line: string) => void;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string;
}

export interface ValidateResult {
  results: CheckResult[];
  seconds: number;
}

/** failureLogs shows the tail of each named container, on every node of the last deploy that has it. */
async function failureLogs(stateDir: string, check: Check, lines: number): Promise<string[]> {
  const out: string[] = [];
  try {
    const record = await loadRecord(stateDir);
    const conns = await connectAll(record.inventory.nodes, record.inventory.ssh, runProcess);
    try {
      const rows = await listContainers(conns);
      for (const row of rows.filter((r) => check.containers.includes(r.name))) {
        const conn = conns.find((c) => c.node.name === row.node);
        if (!conn) continue;
        const text = await containerLogs(conn, row.name, lines).catch((e: unknown) => errorMessage(e));
        out.push(
          `--- ${row.node} ${row.name} (${row.status}${row.health ? `, ${row.health}` : ''}): last ${lines} lines ---`,
        );
        out.push(...text.trimEnd().split('\n'));
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  } catch (e) {
    out.push(`(no container logs: ${errorMessage(e)})`);
  }
  return out;
}

/** Three at once: enough to overlap the client's start-up with the cloud's work on 2 cores. */
const CHECKS_AT_ONCE = 3;

export async function runValidate(opts: ValidateOptions): Promise<ValidateResult> {
  const started = Date.now();
  const rc = await readOvercloudrc(opts.rcFile ?? rcFile(opts.stateDir));
  const services: ServiceMap | undefined = await readServices(opts.stateDir);
  const checks = selectChecks(opts.only, services);
  const expectTypes = services
    ? [...new Set(Object.entries(CATALOGUE_TYPES).flatMap(([s, t]) => (services[s] ? [t] : [])))]
    : [...new Set(checks.flatMap((c) => c.types))];
  const scratch = await mkdtemp(join(tmpdir(), 'overcloud-validate-'));
  const ctx: CheckContext = {
    os: openstackClient(rc),
    rc,
    services: services ?? {},
    expectTypes,
    scratch,
    nodes: nodeAccess(opts.stateDir),
    tag: `${Date.now().toString(36)}`,
    made: {},
  };
  opts.out(`validating ${rc.OS_AUTH_URL}: ${checks.map((c) => c.name).join(', ')}`);
  // Checks run side by side (each mostly waits on the openstack client's start-up and on the
  // cloud), a check that uses another's resources after it; lines print as checks finish.
  const limit = limiter(CHECKS_AT_ONCE);
  const finished = new Map<string, Promise<CheckResult>>();
  const runOne = async (check: Check): Promise<CheckResult> => {
    await Promise.all((check.after ?? []).map((n) => finished.get(n)));
    return limit(async () => {
      const t = Date.now();
      try {
        const detail = await check.run(ctx);
        const seconds = (Date.now() - t) / 1000;
        opts.out(`[ok]   ${check.title} (${seconds.toFixed(1)} s): ${detail}`);
        return { name: check.name, ok: true, seconds, detail };
      } catch (e) {
        const seconds = (Date.now() - t) / 1000;
        const detail = errorMessage(e);
        const logs = await failureLogs(opts.stateDir, check, opts.logLines);
        opts.out(`[FAIL] ${check.title} (${seconds.toFixed(1)} s): service ${check.service}: ${detail}`);
        for (const l of logs) opts.out(`       ${l}`);
        return { name: check.name, ok: false, seconds, detail };
      }
    });
  };
  let results: CheckResult[] = [];
  try {
    for (const check of checks) finished.set(check.name, runOne(check));
    results = await Promise.all(checks.map((c) => finished.get(c.name) as Promise<CheckResult>));
  } finally {
    const problems = await cleanup(ctx);
    ctx.os.close();
    await ctx.nodes.close();
    for (const p of problems) opts.out(`[cleanup] ${p}`);
    await rm(scratch, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const failed = results.filter((r) => !r.ok);
  opts.out(
    `validate: ${results.length - failed.length}/${results.length} checks passed in ${seconds.toFixed(1)} s`,
  );
  if (failed.length > 0)
    throw new AppError('VALIDATE_FAILED', `failed: ${failed.map((f) => f.name).join(', ')}`);
  return { results, seconds };
}
