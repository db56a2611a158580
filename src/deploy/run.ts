/**
 * @module deploy/run
 * `overcloud deploy` as a library call: load inputs, plan (pure), connect to the nodes, apply (or
 * only diff, with dryRun), record the node list. The Runner is injected: the CLI passes runProcess.
 */

import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { Runner } from '../process/index.js';
import { connectAll, type NodeConnection } from '../process/index.js';
import { overcloudBin } from '../util/paths.js';
import { reportFromRun, runPlaybook, writeConfigDownload } from './ansible.js';
import { type ApplyReport, applyPlan } from './apply.js';
import { configDownloadFiles, PLAYBOOK } from './config-download.js';
import { DEFAULT_NODE_DIR } from './defaults.js';
import type { Inventory } from './inventory.js';
import { loadDeployInput } from './load.js';
import { type DeployPlan, planDeploy } from './plan.js';
import { needsWaiting, planReadiness, type ReadinessPlan, waitReady } from './readiness.js';
import { loadRemoved, passwordsFile, saveRecord, stateDir } from './record.js';
import { changeCount } from './report-doc.js';
import { describeLeftOut, fallbacksOf, type LeftOut, probeNodes, requirementProbes } from './requirements.js';

const DEFAULT_READY_TIMEOUT_MS = 300_000;

export interface DeployOptions {
  templatesDir: string;
  environmentFiles: string[];
  rolesFile?: string;
  inventory?: string;
  stack: string;
  stateDir?: string;
  dryRun: boolean;
  healthTimeoutMs: number;
  pull: 'missing' | 'always';
  concurrency: number;
  out: (line: string) => void;
  /** Where warnings go (the CLI: stderr); default: `out` with a `[warning]` prefix. */
  warn?: (message: string) => void;
  /** ssh: our engine over SSH; ansible: write a config-download folder and run its playbook. */
  driver?: 'ssh' | 'ansible';
  /** ansible: the config-download folder (default <state dir>/config-download). */
  outputDir?: string;
  /** ansible: how a node starts `overcloud` (default: this installation, for nodes sharing its files). */
  nodeCommand?: string[];
  /** ansible: write the folder, do not run it. */
  configDownloadOnly?: boolean;
  /** How long, after the last step, to wait for the deployed services to be ready (default 300 s). */
  readyTimeoutMs?: number;
}

export interface DeployResult {
  plan: DeployPlan;
  report: ApplyReport;
  durationMs: number;
}

/**
 * thisOvercloud starts this very installation: right for nodes that share this machine's files.
 * Through bin/overcloud, which runs the one-file bundle when it is current (half the start-up, paid
 * by every node task of the playbook).
 */
export function thisOvercloud(): string[] {
  return [overcloudBin()];
}

/** insecureRegistries reads DockerInsecureRegistryAddress (list or comma-separated string). */
export function insecureRegistries(parameterDefaults: Record<string, unknown>): Set<string> {
  const v = parameterDefaults.DockerInsecureRegistryAddress;
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : [];
  return new Set(list.map((s) => s.trim()).filter(Boolean));
}

const connect = (inventory: Inventory, run: Runner): Promise<NodeConnection[]> =>
  connectAll(inventory.nodes, inventory.ssh, run);

async function closeAll(conns: NodeConnection[] | undefined): Promise<void> {
  await Promise.all((conns ?? []).map((c) => c.close()));
}

/**
 * askKernels runs the kernel checks of the services each node would run, only when some service
 * has checks (no connection otherwise); the connections it opened are handed on for the deploy.
 */
async function askKernels(
  loaded: Awaited<ReturnType<typeof loadDeployInput>>,
  run: Runner,
): Promise<{ leftOut: LeftOut; conns: NodeConnection[] | undefined }> {
  const probes = requirementProbes(loaded.input);
  if (probes.size === 0) return { leftOut: {}, conns: undefined };
  const conns = await connect(loaded.inventory, run);
  try {
    return { leftOut: await probeNodes(probes, conns), conns };
  } catch (e) {
    await closeAll(conns);
    throw e;
  }
}

/** runDeploy deploys (or dry-runs) a stack and says what changed. */
export async function runDeploy(opts: DeployOptions, run: Runner): Promise<DeployResult> {
  const started = Date.now();
  const dir = stateDir(opts.stack, opts.stateDir);
  const removed = await loadRemoved(dir);
  const loaded = await loadDeployInput({
    removedNodes: removed.map((n) => n.name),
    templatesDir: opts.templatesDir,
    environmentFiles: opts.environmentFiles,
    rolesFile: opts.rolesFile,
    inventory: opts.inventory,
    passwordsFile: passwordsFile(dir),
    writePasswords: !opts.dryRun,
  });
  const warn = opts.warn ?? ((m: string) => opts.out(`[warning] ${m}`));
  for (const warning of loaded.input.env.warnings) warn(warning);
  const { leftOut, conns } = await askKernels(loaded, run);
  let plan: DeployPlan;
  try {
    plan = planDeploy({ ...loaded.input, leftOut });
  } catch (e) {
    await closeAll(conns);
    throw e;
  }
  for (const line of describeLeftOut(leftOut, fallbacksOf(loaded.input))) opts.out(line);
  for (const n of removed.filter((r) => loaded.leftOut.includes(r.name)))
    opts.out(
      `[note] ${n.name} (${n.role}) left out: removed by overcloud node delete on ${n.removedAt.slice(0, 10)} (${join(dir, 'removed-nodes.json')})`,
    );
  if (loaded.generatedPasswords.length > 0 && !opts.dryRun)
    opts.out(`[passwords] generated ${loaded.generatedPasswords.join(', ')} into ${passwordsFile(dir)}`);
  if (plan.hostServices.length > 0)
    opts.out(
      `[note] not containerized, left to the host: ${plan.hostServices.map((s) => s.replace('OS::TripleO::Services::', '')).join(', ')}`,
    );
  const insecure = insecureRegistries(loaded.input.env.parameterDefaults);
  let report: ApplyReport;
  if (opts.driver === 'ansible') {
    // Ansible reaches the nodes itself; the connections of the kernel checks are done.
    await closeAll(conns);
    const outputDir = opts.outputDir ?? join(dir, 'config-download');
    await writeConfigDownload(
      outputDir,
      configDownloadFiles(plan, loaded.inventory, {
        stack: opts.stack,
        nodeCommand: opts.nodeCommand ?? thisOvercloud(),
        nodeDir: DEFAULT_NODE_DIR,
        healthTimeoutS: Math.round(opts.healthTimeoutMs / 1000),
        pull: opts.pull,
        insecureRegistries: [...insecure].sort(),
        forks: opts.concurrency,
      }),
    );
    opts.out(`[config-download] ${outputDir}`);
    if (opts.configDownloadOnly) {
      opts.out(`config download written: cd ${outputDir} && ansible-playbook ${PLAYBOOK}`);
      return {
        plan,
        report: reportFromRun({ results: [], errors: [], stats: {} }, []),
        durationMs: Date.now() - started,
      };
    }
    report = reportFromRun(
      await runPlaybook(outputDir, run, opts.out),
      plan.nodes.map((n) => n.node.name),
    );
  } else {
    const nodes = conns ?? (await connect(loaded.inventory, run));
    try {
      report = await applyPlan(plan, nodes, {
        dryRun: opts.dryRun,
        healthTimeoutMs: opts.healthTimeoutMs,
        pull: opts.pull,
        insecureRegistries: insecure,
        concurrency: opts.concurrency,
        out: opts.out,
      });
    } finally {
      await closeAll(nodes);
    }
  }
  // Ready to serve, or the deploy is not complete; the record is kept either way (for `container
  // list` and `logs` on what is deployed).
  const notReady =
    opts.dryRun || report.failure
      ? undefined
      : await waitUntilReady(planReadiness(loaded.input, plan), loaded.inventory, run, opts).then(
          () => undefined,
          (e: unknown) => e,
        );
  if (!opts.dryRun) {
    await saveRecord(dir, {
      stack: opts.stack,
      finishedAt: new Date().toISOString(),
      ok: !report.failure && notReady === undefined,
      inventory: loaded.inventory,
    });
  }
  if (notReady !== undefined) throw notReady;
  const durationMs = Date.now() - started;
  const c = report.counts;
  const changes = changeCount(report);
  const secs = (durationMs / 1000).toFixed(1);
  if (report.failure) {
    const f = report.failure;
    throw new AppError(
      'DEPLOY_FAILED',
      `deploy stopped at step ${f.step}: ${f.container} on ${f.node}: ${f.reason}`,
      {
        hint: 'earlier steps and other containers were left running; fix the cause and run the same deploy again',
      },
    );
  }
  const verb = opts.dryRun ? 'would' : 'did';
  if (changes === 0) {
    opts.out(`no changes: ${c.unchanged} containers unchanged on ${plan.nodes.length} node(s) (${secs} s)`);
  } else {
    opts.out(
      `${opts.dryRun ? 'dry run' : 'deploy complete'}: ${verb} create ${c.create}, replace ${c.replace}, remove ${c.remove}, exec ${c.exec}; ${c.unchanged} unchanged on ${plan.nodes.length} node(s) (${secs} s)`,
    );
  }
  return { plan, report, durationMs };
}

/**
 * waitUntilReady runs the readiness checks after the last step (TripleO's post-deploy waits): a
 * deploy is complete when its agents are alive and its computes mapped, not when containers run.
 */
async function waitUntilReady(
  rp: ReadinessPlan,
  inventory: Inventory,
  run: Runner,
  opts: DeployOptions,
): Promise<void> {
  if (!needsWaiting(rp)) return;
  const cellsNode = rp.cells && inventory.nodes.find((n) => n.name === rp.cells?.node);
  const conns = cellsNode ? await connectAll([cellsNode], inventory.ssh, run) : [];
  try {
    await waitReady(rp, {
      ...(conns[0] === undefined ? {} : { cellsNode: conns[0] }),
      out: opts.out,
      timeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    });
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}
