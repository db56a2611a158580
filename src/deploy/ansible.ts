/**
 * @module deploy/ansible
 * The Ansible driver's controller side: write the config-download folder, run `ansible-playbook` on
 * it with the JSON-lines callback, relay each node's output as its task finishes, and fold the
 * `overcloud paunch` results into the same report the SSH engine gives (counts, pulls, config files,
 * the failing container with its logs). Events are parsed by `foldEvent` (pure).
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AppError } from '../errors.js';
import type { Runner } from '../process/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type ApplyReport, emptyCounts, pullFailed } from './apply.js';
import { ANSIBLE_CFG, INVENTORY, type OutputFile, PLAYBOOK } from './config-download.js';
import type { Counts, PaunchResult } from './paunch.js';
import { STEPS } from './plan.js';

/** What one ansible-playbook run said, folded from its events. */
export interface AnsibleRun {
  results: PaunchResult[];
  /** Task failures that are not a paunch result (unreachable node, missing command...). */
  errors: string[];
  /** PLAY RECAP per host. */
  stats: Record<string, Record<string, number>>;
}

/** writeConfigDownload writes the folder (0700, each file atomically). */
export async function writeConfigDownload(dir: string, files: OutputFile[]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const f of files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, f.path), f.content, { mode: f.mode });
  }
}

interface HostResult {
  stdout?: string;
  stderr?: string;
  msg?: string;
  rc?: number;
  skipped?: boolean;
}

function paunchResult(stdout: string): { result?: PaunchResult; lines: string[] } {
  const lines = stdout.split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    const v = JSON.parse(last) as PaunchResult;
    if (typeof v === 'object' && v !== null && typeof v.phase === 'string')
      return { result: v, lines: lines.slice(0, -1) };
  } catch {
    // not a result line: the command failed before it could print one
  }
  return { lines: stdout === '' ? [] : lines };
}

/** foldEvent adds one JSON-lines callback event to the run and prints what an operator should see. */
export function foldEvent(run: AnsibleRun, line: string, out: (l: string) => void): void {
  let ev: { _event?: string; hosts?: Record<string, HostResult>; task?: { name?: string }; stats?: unknown };
  try {
    ev = JSON.parse(line);
  } catch {
    if (line.trim() !== '') out(`[ansible] ${line}`);
    return;
  }
  const kind = ev._event ?? '';
  if (kind === 'v2_playbook_on_stats') {
    run.stats = (ev.stats ?? {}) as AnsibleRun['stats'];
    return;
  }
  if (!/^v2_runner_on_(ok|failed|unreachable)$/.test(kind)) return;
  for (const [host, r] of Object.entries(ev.hosts ?? {})) {
    const { result, lines } = paunchResult((r.stdout ?? '').trimEnd());
    for (const l of lines) out(l);
    if (result) run.results.push(result);
    if (kind === 'v2_runner_on_ok' || result) continue;
    const detail = [r.msg, r.stderr?.trim().split('\n').slice(-5).join(' | ')].filter(Boolean).join(': ');
    run.errors.push(
      `${host}: ${ev.task?.name ?? 'task'}: ${kind === 'v2_runner_on_unreachable' ? 'unreachable' : `failed (rc ${r.rc ?? '?'})`}${detail ? `: ${detail}` : ''}`,
    );
  }
}

/** recapLines are Ansible's PLAY RECAP, one line per host. */
export function recapLines(stats: AnsibleRun['stats']): string[] {
  return Object.entries(stats)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([host, s]) =>
        `[ansible] ${host}: ok=${s.ok ?? 0} changed=${s.changed ?? 0} unreachable=${s.unreachable ?? 0} failed=${s.failures ?? 0} skipped=${s.skipped ?? 0}`,
    );
}

/**
 * runPlaybook runs the folder's playbook and folds its events. For this run only, each node gets one
 * SSH ControlMaster in a private folder (every later task rides on it instead of a new handshake);
 * the masters are told to exit when the playbook ends, and would idle out after 60 s if we were killed.
 */
export async function runPlaybook(dir: string, run: Runner, out: (l: string) => void): Promise<AnsibleRun> {
  const folded: AnsibleRun = { results: [], errors: [], stats: {} };
  // Short on purpose: a unix socket path is limited to 108 bytes, and %C adds 40.
  const controlDir = await mkdtemp(join(tmpdir(), 'oc-ans-'));
  let r: Awaited<ReturnType<Runner>>;
  try {
    r = await run(['ansible-playbook', '-i', INVENTORY, PLAYBOOK], {
      cwd: dir,
      env: {
        ANSIBLE_CONFIG: join(dir, ANSIBLE_CFG),
        ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.jsonl',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s',
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_SSH_CONTROL_PATH: '%(directory)s/%%C',
      },
      timeoutMs: 4 * 3_600_000,
      onLine: (l) => foldEvent(folded, l, out),
    });
  } finally {
    for (const socket of await readdir(controlDir))
      await run(['ssh', '-o', `ControlPath=${join(controlDir, socket)}`, '-O', 'exit', 'overcloud-node'], {
        timeoutMs: 10_000,
      });
    await rm(controlDir, { recursive: true, force: true });
  }
  // A non-zero exit must be explained by a node's failure; anything else is Ansible's own trouble.
  const explained =
    folded.errors.length > 0 || folded.results.some((x) => x.failure || (x.pullErrors?.length ?? 0) > 0);
  if (r.code === 127 || (r.code !== 0 && !explained)) {
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `ansible-playbook failed (exit ${r.code ?? r.signal}) in ${dir}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`,
      {
        hint: 'is Ansible installed (Debian: apt-get install ansible)? the folder can be run by hand to see more',
      },
    );
  }
  for (const l of recapLines(folded.stats)) out(l);
  return folded;
}

/** reportFromRun folds the nodes' results into the SSH engine's report shape. */
export function reportFromRun(run: AnsibleRun, nodes: string[]): ApplyReport {
  const report: ApplyReport = { diffs: new Map(), counts: emptyCounts(), changedFiles: [], pulled: [] };
  const pullErrors = run.results.flatMap((r) => r.pullErrors ?? []);
  if (pullErrors.length > 0) throw pullFailed(pullErrors);
  if (run.errors.length > 0)
    throw new AppError('NODE_COMMAND_FAILED', `the deploy playbook failed:\n  ${run.errors.join('\n  ')}`, {
      hint: 'every node needs python3, podman and the overcloud command (see README "Two drivers")',
    });
  for (const node of nodes) {
    const mine = run.results.filter((r) => r.node === node);
    const predicted = mine.find((r) => r.phase === 'pull')?.counts ?? {};
    for (const step of STEPS) {
      const applied = mine.find((r) => r.phase === 'apply' && r.step === step);
      const c: Counts | undefined = applied ? applied.counts?.[step] : predicted[step];
      for (const [k, v] of Object.entries(c ?? {})) report.counts[k as keyof Counts] += v;
    }
    for (const r of mine) {
      report.pulled.push(...(r.pulled ?? []));
      report.changedFiles.push(...(r.changedFiles ?? []));
      if (r.failure && !report.failure) report.failure = r.failure;
    }
  }
  return report;
}
