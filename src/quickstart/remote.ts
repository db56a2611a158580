/**
 * @module quickstart/remote
 * The quickstart on another machine, as TripleO Quickstart does with its VIRTHOST: reach HOST over
 * ssh (as root), check it can run the quickstart (root, Debian, Node 20, flock), ship the built
 * package there unless it already has this very build, run the host set-up and `overcloud quickstart`
 * there with the same flags while its output streams back, then copy the run's results (its output,
 * report and `overcloudrc`) into a local folder.
 */
import { mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { AppError } from '../errors.js';
import type { QuickstartConfig } from '../lab/index.js';
import { runProcess } from '../process/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/paths.js';
import { checkFacts, type HostFacts, parseFacts } from './host-facts.js';
import { formatDuration } from './plan.js';
import { parseHost, type RemoteHost, sshArgv, sshFailure } from './remote-host.js';
import { collect, stream, tarball, untar } from './remote-io.js';
import {
  fetchScript,
  preflightScript,
  RESULT_FILES,
  runScript,
  TREE_BUSY,
  TREE_CHANGED,
  TREE_FOREIGN,
  unpackScript,
} from './remote-scripts.js';
import { type ShipFile, shipHash, shipList } from './ship.js';

export interface RemoteOptions {
  host: string;
  /** `ssh -o` options (Key=value). */
  sshOptions: string[];
  /** The checkout's folder on HOST. */
  remoteDir: string;
  /** Where the results are copied; default ~/.quickstart/<host>/<lab name>. */
  localDir?: string;
  teardown: boolean;
  purge: boolean;
  verbose: boolean;
  json: boolean;
  /** Our own progress lines ("[remote] ..."). */
  out: (line: string) => void;
}

export interface RemoteResult {
  /** The remote quickstart's exit status. */
  code: number;
  localDir: string;
  copied: string[];
  shipped: boolean;
}

const SSH_FAILED = 255;

interface Ssh {
  h: RemoteHost;
  options: string[];
}

function sshCmd(ssh: Ssh, script: string, timeoutMs = 120_000) {
  return runProcess(sshArgv(ssh.h, { options: ssh.options }, script), { timeoutMs });
}

/** preflight answers: can this login run the quickstart, and which build does HOST have? */
async function preflight(ssh: Ssh, dir: string): Promise<HostFacts> {
  const r = await sshCmd(ssh, preflightScript(dir), 60_000);
  if (r.code === SSH_FAILED) throw sshFailure(ssh.h, r.stderr);
  return checkFacts(parseFacts(r, ssh.h), ssh.h, dir);
}

/** remoteConfig: where the config is on HOST (inside the shipment) and what to add for it. */
function remoteConfig(
  config: QuickstartConfig,
  files: ShipFile[],
  root: string,
): { path: string; extra?: ShipFile } {
  const abs = resolve(config.path);
  const rel = relative(root, abs).split('\\').join('/');
  if (!rel.startsWith('..') && !isAbsolute(rel) && files.some((f) => f.path === rel)) return { path: rel };
  const path = `remote-configs/${basename(abs)}`;
  return { path, extra: { path, source: abs, mode: 0o644 } };
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-6).join('\n    ');
}

/** localDirFor: ~/.quickstart/<host>[_<port>]/<lab name>, beside TripleO Quickstart's own ~/.quickstart. */
export function localDirFor(h: RemoteHost, config: QuickstartConfig): string {
  const host = `${h.host.replace(/:/g, '_')}${h.port === undefined ? '' : `_${h.port}`}`;
  return join(homedir(), '.quickstart', host, config.lab.name);
}

/** runRemote does the whole remote run; the caller exits with `code`. */
export async function runRemote(config: QuickstartConfig, o: RemoteOptions): Promise<RemoteResult> {
  const h = parseHost(o.host);
  const ssh: Ssh = { h, options: o.sshOptions };
  const login = `${h.user}@${h.host}${h.port === undefined ? '' : `:${h.port}`}`;
  const root = packageRoot();
  const files = await shipList(root);
  const rc = remoteConfig(config, files, root);
  if (rc.extra) files.push(rc.extra);
  const hash = await shipHash(files);

  const facts = await preflight(ssh, o.remoteDir);
  o.out(`[remote] ${login}: Debian ${facts.debian}, Node.js ${facts.node}, logged in as root`);

  let shipped = false;
  if (facts.shipped === hash) {
    o.out(`[remote] ${login}:${o.remoteDir} already has this build (${hash.slice(0, 12)}): nothing to ship`);
  } else {
    const t0 = performance.now();
    const data = await tarball(files);
    const r = await collect(sshArgv(h, { options: o.sshOptions }, unpackScript(o.remoteDir, hash)), data);
    if (r.code === SSH_FAILED) throw sshFailure(h, r.stderr);
    if (r.code === TREE_BUSY)
      throw new AppError(
        'HOST_BUSY',
        `a quickstart runs from ${login}:${o.remoteDir} right now: a new build cannot replace its files under it`,
        { hint: 'wait for it to end, or ship into another folder with --remote-dir' },
      );
    if (r.code === TREE_FOREIGN)
      throw new AppError(
        'HOST_UNSUPPORTED',
        `${o.remoteDir} on ${h.host} is not a folder the quickstart made`,
        {
          hint: 'name another folder with --remote-dir',
        },
      );
    if (r.code !== 0)
      throw new AppError(
        'HOST_COMMAND_FAILED',
        `unpacking on ${login} failed (exit ${r.code}):\n    ${tail(r.stderr)}`,
        {
          hint: `look at ${o.remoteDir} on ${h.host}; a run again ships everything anew`,
        },
      );
    for (const line of r.stdout.toString('utf8').trim().split('\n').filter(Boolean))
      o.out(`[remote]   ${line}`);
    shipped = true;
    o.out(
      `[remote] shipped ${files.length} files (${(data.length / 1e6).toFixed(1)} MB packed, build ${hash.slice(0, 12)}) to ${login}:${o.remoteDir} in ${formatDuration((performance.now() - t0) / 1000)}`,
    );
  }

  const args = [
    '--config',
    rc.path,
    ...(o.teardown ? ['--teardown'] : []),
    ...(o.purge ? ['--purge'] : []),
    ...(o.verbose ? ['--verbose'] : []),
    ...(o.json ? ['--json'] : []),
  ];
  o.out(`[remote] ${login}: overcloud quickstart ${args.join(' ')}`);
  // A terminal on both ends: a pseudo-terminal there too, so that Ctrl-C stops the remote run.
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true && !o.json;
  const run = await stream(
    sshArgv(h, { options: o.sshOptions, tty }, runScript(o.remoteDir, hash, args)),
    tty,
  );
  if (run.code === SSH_FAILED) throw sshFailure(h, run.stderr);
  if (run.code === TREE_BUSY || run.code === TREE_CHANGED)
    throw new AppError(
      'HOST_BUSY',
      `another build is being shipped to ${login}:${o.remoteDir} right now (its files changed under this run)`,
      { hint: 'run again when it is done: the quickstart ships this build again if needed' },
    );

  const localDir = o.localDir ?? localDirFor(h, config);
  // A pseudo-terminal ends lines with CRLF: the saved copy gets plain newlines.
  const output = run.stdout.replace(/\r\n/g, '\n');
  const copied = await copyBack(ssh, config, o, localDir, output, run.code === 0);
  o.out(`[remote] copied into ${localDir}: ${copied.join(', ')}`);
  if (run.code === 0 && !o.teardown)
    o.out(`[remote] tear down with: ./quickstart.sh --config ${config.path} --teardown ${o.host}`);
  // Killed by a signal: a shell's 128, as before.
  return { code: run.code ?? 128, localDir, copied, shipped };
}

/**
 * copyBack writes the run's output to summary.txt and copies the report and overcloudrc from the lab
 * folder on HOST. After a teardown the old report and credentials no longer describe anything: they go.
 */
async function copyBack(
  ssh: Ssh,
  config: QuickstartConfig,
  o: RemoteOptions,
  localDir: string,
  output: string,
  ok: boolean,
): Promise<string[]> {
  await mkdir(localDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(localDir, 'summary.txt'), output);
  const copied = ['summary.txt'];
  if (o.teardown) {
    if (ok) for (const f of ['report.json', 'overcloudrc']) await rm(join(localDir, f), { force: true });
    return copied;
  }
  // A failed run wrote no report: the lab folder's one (if any) is an older run's, so it stays there.
  if (!ok) return copied;
  const r = await collect(sshArgv(ssh.h, { options: ssh.options }, fetchScript(config.lab.dir)));
  if (r.code === SSH_FAILED) throw sshFailure(ssh.h, r.stderr);
  if (r.code !== 0)
    throw new AppError(
      'HOST_COMMAND_FAILED',
      `copying the results from ${ssh.h.host} failed: ${tail(r.stderr)}`,
    );
  const found = await untar(r.stdout);
  const report = found.get(RESULT_FILES[0] as string);
  if (report) {
    await writeFileAtomic(join(localDir, 'report.json'), report);
    copied.push('report.json');
  }
  const rcFile = RESULT_FILES.slice(1)
    .map((f) => found.get(f))
    .find((b) => b !== undefined);
  if (rcFile) {
    // It holds the admin password: readable by its owner only.
    await writeFileAtomic(join(localDir, 'overcloudrc'), rcFile, { mode: 0o600 });
    copied.push('overcloudrc');
  }
  return copied;
}
