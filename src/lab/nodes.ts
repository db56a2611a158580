/**
 * @module lab/nodes
 * A lab node's host side: its folders and podman config, the lab's SSH keys, and its sshd (started
 * detached in the node's namespaces, recorded by pid and command line).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aliveWith, inNet, runProcess, startDaemon } from '../process/index.js';
import { must } from './network.js';
import { clientSshArgs, containersConf, fsDir, sshdArgv, sshdConfig, storageConf } from './render.js';
import { type LabConfig, type LabPaths, type LabState, nodeDir, nodeEnv } from './state.js';
import type { PlannedNode, Topology } from './topology.js';
import { waitUntil } from './wait.js';

/** writeIfChanged writes a file only when its content differs (re-runs change nothing). */
export async function writeIfChanged(path: string, content: string, mode = 0o644): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await writeFile(path, content, { mode });
  return true;
}

/** ensureKeys makes the lab's host and client keys once, and authorizes the client key. */
export async function ensureKeys(paths: LabPaths, labName: string): Promise<void> {
  for (const [role, key] of [
    ['host', paths.keys.host],
    ['client', paths.keys.client],
  ] as const) {
    if (!existsSync(key))
      await must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${labName}-${role}`, '-f', key]);
  }
  await writeIfChanged(paths.keys.authorized, await readFile(`${paths.keys.client}.pub`, 'utf8'), 0o600);
}

/** nodeFiles makes the node's folders and writes its podman and sshd configuration. */
export async function nodeFiles(paths: LabPaths, n: PlannedNode, config: LabConfig): Promise<void> {
  const d = nodeDir(paths, n);
  const run = join(paths.runDir, n.dirName);
  for (const sub of ['storage', 'tmp', 'networks', ...config.lab.nodeDirs.map((x) => fsDir(x))])
    await mkdir(join(d, sub), { recursive: true });
  await mkdir(run, { recursive: true });
  const system = await readFile('/etc/containers/containers.conf', 'utf8').catch(() => '[engine]\n');
  await writeIfChanged(join(d, 'containers.conf'), containersConf(system, d));
  await writeIfChanged(join(d, 'storage.conf'), storageConf(d, run));
  await writeIfChanged(
    join(d, 'sshd_config'),
    sshdConfig({
      address: n.address,
      hostKey: paths.keys.host,
      pidFile: `${run}/sshd.pid`,
      authorizedKeys: paths.keys.authorized,
      env: nodeEnv(paths, n),
    }),
  );
}

/** sshdKey names a node's sshd in the state's process records. */
export function sshdKey(n: { name: string }): string {
  return `sshd:${n.name}`;
}

/** ensureSshd starts the node's sshd unless the recorded one still runs; the pid when it started one. */
export async function ensureSshd(
  paths: LabPaths,
  n: PlannedNode,
  config: LabConfig,
  state: LabState,
): Promise<number | undefined> {
  const rec = state.procs[sshdKey(n)];
  const marker = `${nodeDir(paths, n)}/sshd_config`;
  if (rec && (await aliveWith(rec.pid, marker))) return undefined;
  const pid = startDaemon(
    sshdArgv(n, nodeDir(paths, n), config.lab.nodeDirs),
    join(paths.logs, `sshd-${n.name}.log`),
  );
  state.procs[sshdKey(n)] = { pid, marker };
  return pid;
}

/** waitForSshd waits until the node answers `hostname` over ssh from the undercloud, with its own name. */
export async function waitForSshd(paths: LabPaths, topo: Topology, n: PlannedNode): Promise<void> {
  await waitUntil(async () => {
    const r = await runProcess(
      inNet(topo.undercloud.ns, [
        'ssh',
        ...clientSshArgs(paths.keys.client),
        `root@${n.address}`,
        'hostname',
      ]),
      { timeoutMs: 10_000 },
    );
    return r.code === 0 && r.stdout.trim() === n.name;
  }, `sshd on ${n.name} (${n.address})`);
}
