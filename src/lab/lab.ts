/**
 * @module lab/lab
 * The lab on this machine, idempotently: the safety route, an undercloud namespace with a bridge, one
 * namespace per node (veth on the bridge, own address, hostname, sshd, podman storage, /var/lib and
 * /var/log), and the lab's registries. `labState` records what was created, so `labDown` removes
 * exactly that and nothing else, whatever failed in between.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readTextOr } from '../util/fs.js';
import { freePort } from '../util/net.js';
import { cliCommand } from '../util/paths.js';
import type { QuickstartConfig } from './config.js';
import { aliveWith, cmd, daemon, inNet, killAndWait, must, waitUntil } from './exec.js';
import type { PlannedNode, Topology } from './topology.js';

export interface ProcRecord {
  pid: number;
  /** A string the process's command line contains: a reused pid is never taken for ours. */
  marker: string;
}

export interface LabState {
  version: 1;
  name: string;
  subnet: string;
  dir: string;
  runDir: string;
  /** Only what this lab created: teardown removes these and nothing else. */
  created: { route: boolean; namespaces: string[]; dirs: string[] };
  procs: Record<string, ProcRecord>;
  upstreamPort?: number;
  /** Local image names the build stage tagged for this lab (removed by --purge). */
  builtNames: string[];
}

export interface LabPaths {
  dir: string;
  runDir: string;
  stateFile: string;
  keys: { host: string; client: string; authorized: string };
  sshConfig: string;
  inventory: string;
  undercloudRegistryRoot: string;
  /** Built images pushed "upstream": a cache that survives teardown (removed by --purge). */
  upstreamRoot: string;
  stackDir: string;
  logs: string;
}

export const UPSTREAM_ROOT = '/var/cache/overcloud/quickstart-upstream';

export function labPaths(config: QuickstartConfig): LabPaths {
  const dir = config.lab.dir;
  return {
    dir,
    runDir: `/run/${config.lab.name}`,
    stateFile: join(dir, 'lab.json'),
    keys: {
      host: join(dir, 'host_key'),
      client: join(dir, 'client_key'),
      authorized: join(dir, 'authorized_keys'),
    },
    sshConfig: join(dir, 'ssh_config'),
    inventory: join(dir, 'inventory.yaml'),
    undercloudRegistryRoot: join(dir, 'registry'),
    upstreamRoot: `${UPSTREAM_ROOT}/${config.lab.name}`,
    stackDir: join(dir, 'stack'),
    logs: join(dir, 'logs'),
  };
}

export async function loadState(paths: LabPaths): Promise<LabState | undefined> {
  const text = await readTextOr(paths.stateFile, undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LabState;
  } catch {
    // A torn write from a killed run: the lab stage rebuilds the state from what it finds.
    return undefined;
  }
}

async function saveState(paths: LabPaths, state: LabState): Promise<void> {
  await mkdir(dirname(paths.stateFile), { recursive: true });
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

async function nsExists(ns: string): Promise<boolean> {
  return existsSync(`/run/netns/${ns}`);
}

/**
 * checkRoutes refuses to go on unless every lab address is unroutable from the root namespace: the
 * only answer allowed is the `unreachable` route (or no route at all, which `ip route get` reports as
 * an error). A route through a gateway or a device means lab packets could leave this machine.
 */
export async function checkRoutes(addresses: string[]): Promise<void> {
  for (const a of addresses) {
    const r = await cmd(['ip', 'route', 'get', a]);
    const text = `${r.stdout}${r.stderr}`.trim();
    const unreachable =
      r.code !== 0 ? /unreachable|No route to host/i.test(text) : /^unreachable /.test(text);
    if (!unreachable)
      throw new AppError('LAB_UNSAFE', `lab address ${a} is routed from this machine: ${text}`, {
        hint: 'choose another lab.subnet in the config: this one is in use here',
      });
  }
}

/** ensureRoute adds the `unreachable` route for the subnet first, before any lab address exists. */
async function ensureRoute(subnet: string, state: LabState, say: (l: string) => void): Promise<boolean> {
  const exact = (await must(['ip', 'route', 'show', 'exact', subnet])).trim();
  if (exact.startsWith('unreachable') && state.created.route) return false;
  // Someone else's safety route: another lab uses this subnet and would remove it when done.
  if (exact.startsWith('unreachable'))
    throw new AppError('LAB_UNSAFE', `lab subnet ${subnet} is in use by another lab (route: ${exact})`, {
      hint: 'choose another lab.subnet in the config, or tear the other lab down first',
    });
  if (exact !== '')
    throw new AppError('LAB_UNSAFE', `lab subnet ${subnet} is already routed here: ${exact}`, {
      hint: 'choose another lab.subnet in the config',
    });
  await must(['ip', 'route', 'add', 'unreachable', subnet]);
  state.created.route = true;
  say(`route: unreachable ${subnet} in the root namespace`);
  return true;
}

async function mkdirOwned(path: string, state: LabState): Promise<void> {
  if (existsSync(path)) return;
  await mkdir(path, { recursive: true });
  if (!state.created.dirs.includes(path)) state.created.dirs.push(path);
}

async function addNs(ns: string, state: LabState): Promise<boolean> {
  if (await nsExists(ns)) {
    // A usable namespace of this lab is kept (re-runs converge). A stale one (its /run/netns file
    // left behind without the namespace mounted on it, e.g. after a killed run) is replaced.
    if ((await cmd(['ip', '-n', ns, 'link', 'show', 'lo'])).code === 0) return false;
    await must(['ip', 'netns', 'del', ns]);
  }
  await must(['ip', 'netns', 'add', ns]);
  state.created.namespaces.push(ns);
  await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  return true;
}

function nodeDir(paths: LabPaths, n: PlannedNode): string {
  return join(paths.dir, n.dirName);
}

/** nodeEnv is what every podman call on a node needs: its own config and storage. */
export function nodeEnv(paths: LabPaths, n: PlannedNode): Record<string, string> {
  const d = nodeDir(paths, n);
  return { CONTAINERS_CONF: join(d, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(d, 'storage.conf') };
}

async function writeIfChanged(path: string, content: string, mode = 0o644): Promise<boolean> {
  const old = await readTextOr(path, undefined);
  if (old === content) return false;
  await writeFile(path, content, { mode });
  return true;
}

async function nodeFiles(paths: LabPaths, n: PlannedNode, config: QuickstartConfig): Promise<void> {
  const d = nodeDir(paths, n);
  const run = join(paths.runDir, n.dirName);
  for (const sub of ['storage', 'tmp', 'networks', ...config.lab.nodeDirs.map((x) => fsDir(x))])
    await mkdir(join(d, sub), { recursive: true });
  await mkdir(run, { recursive: true });
  const base = await readTextOr('/etc/containers/containers.conf', '[engine]\n');
  // CONTAINERS_CONF replaces the system file, so keep its runtime, cgroup and ulimit settings and
  // add a private tmp dir (recorded in the node's database on first use) and network folder.
  const engine = /^\[engine\]$/m.test(base) ? base : `${base}\n[engine]\n`;
  await writeIfChanged(
    join(d, 'containers.conf'),
    `${engine.replace(/^\[engine\]$/m, `[engine]\ntmp_dir = "${d}/tmp"`)}\n[network]\nnetwork_config_dir = "${d}/networks"\n`,
  );
  await writeIfChanged(
    join(d, 'storage.conf'),
    `[storage]\ndriver = "overlay"\ngraphroot = "${d}/storage"\nrunroot = "${run}"\n`,
  );
  const env = nodeEnv(paths, n);
  await writeIfChanged(
    join(d, 'sshd_config'),
    [
      `ListenAddress ${n.address}:22`,
      `HostKey ${paths.keys.host}`,
      `PidFile ${run}/sshd.pid`,
      `AuthorizedKeysFile ${paths.keys.authorized}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxSessions 50',
      'MaxStartups 50',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      `SetEnv ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      '',
    ].join('\n'),
  );
}

/** fsDir names the node's private copy of a host folder (`/var/lib` → `fs/var-lib`). */
export function fsDir(hostDir: string): string {
  return `fs/${hostDir.replace(/^\//, '').replaceAll('/', '-')}`;
}

/** sshdArgv starts the node's sshd in its namespace with its hostname and its own folders. */
function sshdArgv(paths: LabPaths, n: PlannedNode, config: QuickstartConfig): string[] {
  const d = nodeDir(paths, n);
  const binds = config.lab.nodeDirs.map((h) => `mount --bind ${join(d, fsDir(h))} ${h}`);
  const script = [`hostname ${n.name}`, ...binds, `exec /usr/sbin/sshd -D -e -f ${d}/sshd_config`].join(
    ' && ',
  );
  // A private mount namespace: the binds (and podman's overlay mounts) exist for this node only and
  // vanish with its last process. A UTS namespace gives the node its own hostname.
  return inNet(n.ns, ['unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script]);
}

export function sshArgs(paths: LabPaths): string[] {
  return [
    '-i',
    paths.keys.client,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
  ];
}

export interface UpResult {
  state: LabState;
  /** What this call created or started (empty: the lab was already as planned). */
  changes: string[];
}

function freshState(config: QuickstartConfig, paths: LabPaths): LabState {
  return {
    version: 1,
    name: config.lab.name,
    subnet: config.lab.subnet,
    dir: paths.dir,
    runDir: paths.runDir,
    created: { route: false, namespaces: [], dirs: [] },
    procs: {},
    builtNames: [],
  };
}

/** labUp creates whatever of the planned lab is missing. */
export async function labUp(
  config: QuickstartConfig,
  topo: Topology,
  say: (line: string) => void,
): Promise<UpResult> {
  const paths = labPaths(config);
  const changes: string[] = [];
  const note = (l: string): void => {
    changes.push(l);
    say(l);
  };
  let state = await loadState(paths);
  if (state && (state.subnet !== topo.subnet || state.name !== topo.name))
    throw new AppError(
      'LAB_FAILED',
      `a lab ${state.name} on ${state.subnet} is up in ${paths.dir}; the config asks for ${topo.name} on ${topo.subnet}`,
      { hint: 'run quickstart --teardown with the old config first' },
    );
  // Refuse a subnet in use here before creating anything at all.
  const exact = (await must(['ip', 'route', 'show', 'exact', topo.subnet])).trim();
  if (exact !== '' && !state?.created.route)
    throw new AppError('LAB_UNSAFE', `lab subnet ${topo.subnet} is already routed here: ${exact}`, {
      hint: 'choose another lab.subnet in the config (another lab or network uses this one)',
    });
  const fresh = state === undefined;
  state = state ?? freshState(config, paths);
  // The state file lives in the lab dir: create it before anything else so a failure can be undone.
  if (!existsSync(paths.dir)) {
    await mkdir(paths.dir, { recursive: true });
    state.created.dirs.push(paths.dir);
  }
  await mkdirOwned(paths.runDir, state);
  await mkdir(paths.logs, { recursive: true });
  if (fresh) await saveState(paths, state);
  try {
    // Safety first: no lab address may be routed out before any of them exists.
    if (await ensureRoute(topo.subnet, state, say)) changes.push('route');
    await saveState(paths, state);
    await checkRoutes([topo.undercloud.address, ...topo.nodes.map((n) => n.address)]);

    const uc = topo.undercloud;
    if (await addNs(uc.ns, state)) note(`namespace ${uc.ns} (undercloud ${uc.address})`);
    await saveState(paths, state);
    if ((await cmd(['ip', '-n', uc.ns, 'link', 'show', uc.bridge])).code !== 0)
      await must(['ip', '-n', uc.ns, 'link', 'add', uc.bridge, 'type', 'bridge']);
    await must([
      'ip',
      '-n',
      uc.ns,
      'addr',
      'replace',
      `${uc.address}/${topo.prefixLength}`,
      'dev',
      uc.bridge,
    ]);
    await must(['ip', '-n', uc.ns, 'link', 'set', uc.bridge, 'up']);

    for (const [role, key] of [
      ['host', paths.keys.host],
      ['client', paths.keys.client],
    ] as const) {
      if (!existsSync(key))
        await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${topo.name}-${role}`, '-f', key]);
    }
    await writeIfChanged(paths.keys.authorized, await readFile(`${paths.keys.client}.pub`, 'utf8'), 0o600);
    await mkdirOwned('/run/sshd', state);

    for (const n of topo.nodes) {
      if (await addNs(n.ns, state)) note(`namespace ${n.ns} (${n.name} ${n.address})`);
      await saveState(paths, state);
      if ((await cmd(['ip', '-n', n.ns, 'link', 'show', 'eth0'])).code !== 0) {
        // A half-made pair from an interrupted run would block the name: remove it first.
        await cmd(['ip', 'link', 'del', n.inner]);
        await must(['ip', 'link', 'add', n.inner, 'type', 'veth', 'peer', 'name', n.outer]);
        await must(['ip', 'link', 'set', n.outer, 'netns', uc.ns]);
        await must(['ip', 'link', 'set', n.inner, 'netns', n.ns]);
        await must(['ip', '-n', n.ns, 'link', 'set', n.inner, 'name', 'eth0']);
      }
      await must(['ip', '-n', n.ns, 'addr', 'replace', `${n.address}/${topo.prefixLength}`, 'dev', 'eth0']);
      await must(['ip', '-n', n.ns, 'link', 'set', 'eth0', 'up']);
      await must(['ip', '-n', uc.ns, 'link', 'set', n.outer, 'master', uc.bridge]);
      await must(['ip', '-n', uc.ns, 'link', 'set', n.outer, 'up']);
      await nodeFiles(paths, n, config);
      const key = `sshd:${n.name}`;
      const rec = state.procs[key];
      const marker = `${nodeDir(paths, n)}/sshd_config`;
      if (!rec || !(await aliveWith(rec.pid, marker))) {
        const pid = daemon(sshdArgv(paths, n, config), join(paths.logs, `sshd-${n.name}.log`));
        state.procs[key] = { pid, marker };
        await saveState(paths, state);
        note(`sshd on ${n.name} (pid ${pid})`);
      }
    }
    for (const n of topo.nodes) {
      await waitUntil(async () => {
        const r = await cmd(inNet(uc.ns, ['ssh', ...sshArgs(paths), `root@${n.address}`, 'hostname']), {
          timeoutMs: 10_000,
        });
        return r.code === 0 && r.stdout.trim() === n.name;
      }, `sshd on ${n.name} (${n.address})`);
    }
    await writeIfChanged(
      paths.sshConfig,
      [
        ...topo.nodes.flatMap((n) => [`Host ${n.name}`, `  HostName ${n.address}`]),
        'Host *',
        '  User root',
        `  IdentityFile ${paths.keys.client}`,
        '  IdentitiesOnly yes',
        '  StrictHostKeyChecking no',
        '  UserKnownHostsFile /dev/null',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    await writeIfChanged(
      paths.inventory,
      [
        '# Written by overcloud quickstart: the lab nodes, reached over SSH from the undercloud namespace.',
        'nodes:',
        ...topo.nodes.map((n) => `  - {name: ${n.name}, role: ${n.role}, address: ${n.address}, user: root}`),
        'ssh:',
        `  identity_file: ${paths.keys.client}`,
        '  options: {StrictHostKeyChecking: "no", UserKnownHostsFile: /dev/null, LogLevel: ERROR}',
        '',
      ].join('\n'),
    );
    await saveState(paths, state);
    return { state, changes };
  } catch (e) {
    await saveState(paths, state);
    throw e;
  }
}

/** ensureRegistries starts the upstream registry (loopback, plus a read-only twin in the lab) and the undercloud's :8787. */
export async function ensureRegistries(
  config: QuickstartConfig,
  topo: Topology,
  say: (line: string) => void,
): Promise<{ state: LabState; changes: string[]; upstreamLoopback: string }> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  if (!state)
    throw new AppError('LAB_FAILED', `no lab state in ${paths.stateFile}; the lab stage must run first`);
  const changes: string[] = [];
  if (state.upstreamPort === undefined) state.upstreamPort = await freePort();
  const upstreamLoopback = `127.0.0.1:${state.upstreamPort}`;
  await mkdir(paths.upstreamRoot, { recursive: true });
  await mkdir(paths.undercloudRegistryRoot, { recursive: true });
  const cli = [...cliCommand(), 'registry', 'serve', '--quiet'];
  const wanted: { key: string; argv: string[]; marker: string; probe: string[] }[] = [
    {
      // Docker Hub's stand-in: image build pushes here from this machine (loopback only)...
      key: 'registry:upstream',
      argv: [...cli, '--listen', upstreamLoopback, '--root', paths.upstreamRoot],
      marker: `--listen ${upstreamLoopback} --root ${paths.upstreamRoot}`,
      probe: ['busybox', 'wget', '-q', '-O', '-', `http://${upstreamLoopback}/healthz`],
    },
    {
      // ...and the lab reads the same store through a read-only twin at the lab address.
      key: 'registry:upstream-lab',
      argv: inNet(topo.undercloud.ns, [
        ...cli,
        '--listen',
        topo.upstreamRegistry,
        '--root',
        paths.upstreamRoot,
        '--read-only',
      ]),
      marker: `--listen ${topo.upstreamRegistry} --root ${paths.upstreamRoot}`,
      probe: inNet(topo.undercloud.ns, [
        'busybox',
        'wget',
        '-q',
        '-O',
        '-',
        `http://${topo.upstreamRegistry}/healthz`,
      ]),
    },
    {
      key: 'registry:undercloud',
      argv: inNet(topo.undercloud.ns, [
        ...cli,
        '--listen',
        topo.undercloudRegistry,
        '--root',
        paths.undercloudRegistryRoot,
      ]),
      marker: `--listen ${topo.undercloudRegistry} --root ${paths.undercloudRegistryRoot}`,
      probe: inNet(topo.undercloud.ns, [
        'busybox',
        'wget',
        '-q',
        '-O',
        '-',
        `http://${topo.undercloudRegistry}/healthz`,
      ]),
    },
  ];
  for (const w of wanted) {
    const rec = state.procs[w.key];
    if (rec && (await aliveWith(rec.pid, w.marker))) continue;
    const pid = daemon(w.argv, join(paths.logs, `${w.key.replace(':', '-')}.log`));
    state.procs[w.key] = { pid, marker: w.marker };
    await saveState(paths, state);
    changes.push(`${w.key} (pid ${pid})`);
    say(`started ${w.key} (pid ${pid})`);
    await waitUntil(async () => (await cmd(w.probe, { timeoutMs: 3000 })).code === 0, w.key);
  }
  return { state, changes, upstreamLoopback };
}

export async function recordBuiltNames(config: QuickstartConfig, names: string[]): Promise<void> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  if (!state) return;
  const merged = [...new Set([...state.builtNames, ...names])].sort();
  if (merged.length === state.builtNames.length) return;
  state.builtNames = merged;
  await saveState(paths, state);
}

export interface DownResult {
  removed: string[];
}

/**
 * labDown removes what the state file says this lab created: node containers, processes (by pid,
 * checked against their command line), leftovers in our namespaces, the namespaces, the route and
 * our folders. `purge` also removes the upstream registry's store and the images the build tagged.
 */
export async function labDown(
  config: QuickstartConfig,
  topo: Topology,
  opts: { purge: boolean },
  say: (line: string) => void,
): Promise<DownResult> {
  const paths = labPaths(config);
  const state = await loadState(paths);
  const removed: string[] = [];
  const done = (l: string): void => {
    removed.push(l);
    say(l);
  };
  if (state) {
    for (const n of topo.nodes) {
      const rec = state.procs[`sshd:${n.name}`];
      if (!rec || !(await aliveWith(rec.pid, rec.marker))) continue;
      // Run podman inside the node's own mount namespace, where its storage's mounts are.
      const env = Object.entries(nodeEnv(paths, n)).map(([k, v]) => `${k}=${v}`);
      const r = await cmd(
        [
          'nsenter',
          `--target=${rec.pid}`,
          '--net',
          '--mount',
          'env',
          ...env,
          'podman',
          'rm',
          '-a',
          '-f',
          '-t',
          '0',
        ],
        { timeoutMs: 120_000 },
      );
      const count = r.stdout.split('\n').filter(Boolean).length;
      if (count > 0) done(`${count} container(s) on ${n.name}`);
    }
    for (const [key, rec] of Object.entries(state.procs)) {
      if (await aliveWith(rec.pid, rec.marker)) {
        await killAndWait(rec.pid);
        done(`${key} (pid ${rec.pid})`);
      }
    }
    for (const ns of [...state.created.namespaces].reverse()) {
      if (!(await nsExists(ns))) continue;
      // Whatever still runs in our namespace is ours: ssh control masters, conmon, a stray client.
      const pids = (await cmd(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) await killAndWait(pid, 2000);
      await must(['ip', 'netns', 'del', ns]);
      done(`namespace ${ns}`);
    }
    if (state.created.route) {
      const exact = (await cmd(['ip', 'route', 'show', 'exact', state.subnet])).stdout.trim();
      if (exact.startsWith('unreachable')) {
        await must(['ip', 'route', 'del', 'unreachable', state.subnet]);
        done(`route unreachable ${state.subnet}`);
      }
    }
    if (opts.purge && state.builtNames.length > 0) {
      // Only our names: an image also named otherwise (another namespace) keeps its data.
      const r = await cmd(['podman', 'rmi', '--ignore', ...state.builtNames], { timeoutMs: 300_000 });
      if (r.code === 0) done(`${state.builtNames.length} image name(s) from the build`);
    }
    for (const d of [...state.created.dirs].reverse()) {
      if (!existsSync(d)) continue;
      await rm(d, { recursive: true, force: true });
      done(`folder ${d}`);
    }
  }
  if (opts.purge && existsSync(paths.upstreamRoot)) {
    await rm(paths.upstreamRoot, { recursive: true, force: true });
    await rm(`${paths.upstreamRoot}.pushed.json`, { force: true });
    done(`upstream registry store ${paths.upstreamRoot}`);
  }
  return { removed };
}
