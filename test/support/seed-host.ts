/**
 * @module test/support/seed-host
 * The seed document's undercloud for tests that run its commands verbatim: a network namespace that
 * holds 192.168.24.1 (the seed's address), our registry on 192.168.24.1:8787 as the undercloud's,
 * and a shell in that namespace with HOME in a temporary folder (the seed writes `~/...`). The
 * root namespace gets the `unreachable` route for 192.168.24.0/24 first (the network rule), removed
 * again only when this helper added it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { run, runStatus, type StatusResult } from './exec.js';
import { type TmpTree, tmpTree } from './tmp.js';

const OPENSTACK_SHIM = `#!/bin/sh
# test shim: \`openstack overcloud ARGS\` runs \`overcloud ARGS\`
[ "$1" = overcloud ] || { echo "openstack (test shim): only 'openstack overcloud ...' is known" >&2; exit 2; }
shift
exec overcloud "$@"
`;

export const SEED_SUBNET = '192.168.24.0/24';
export const SEED_UNDERCLOUD = '192.168.24.1';

export interface SeedHost {
  /** The temporary HOME (the seed's `~`). */
  home: TmpTree;
  /** The namespace's path, for `nsenter --net=`. */
  netns: string;
  /** sh runs a shell script in the namespace, in HOME, with `overcloud` and `openstack` on the PATH. */
  sh(script: string): Promise<StatusResult>;
  stop(): Promise<void>;
}

/** startSeedHost makes the namespace, starts the registry and waits until it answers. */
export async function startSeedHost(): Promise<SeedHost> {
  const addedRoute = await ensureUnreachableRoute();
  const name = `ocseed-${process.pid}`;
  const netns = `/run/netns/${name}`;
  await run('ip', ['netns', 'add', name]);
  const home = await tmpTree({});
  let registry: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (registry?.pid !== undefined && registry.exitCode === null) {
      const exited = new Promise((resolve) => registry?.once('exit', resolve));
      registry.kill('SIGTERM');
      await exited;
    }
    await runStatus('ip', ['netns', 'del', name]);
    if (addedRoute) await runStatus('ip', ['route', 'del', 'unreachable', SEED_SUBNET]);
    await home.cleanup();
  };
  try {
    const inNs = (argv: string[]) => run('nsenter', [`--net=${netns}`, ...argv]);
    await inNs(['ip', 'link', 'set', 'lo', 'up']);
    await inNs(['ip', 'addr', 'add', `${SEED_UNDERCLOUD}/32`, 'dev', 'lo']);
    registry = spawn(
      'nsenter',
      [
        `--net=${netns}`,
        process.execPath,
        join(packageRoot(), 'dist', 'src', 'cli', 'run.js'),
        'registry',
        'serve',
        '--listen',
        `${SEED_UNDERCLOUD}:8787`,
        '--root',
        home.path('registry'),
        '--quiet',
      ],
      { stdio: 'ignore', env: { ...process.env, OVERCLOUD_REGISTRY_RUN_DIR: home.path('run') } },
    );
    await waitForPort(netns, SEED_UNDERCLOUD, 8787);
  } catch (e) {
    await stop();
    throw e;
  }
  const bin = join(home.dir, 'bin');
  await mkdir(bin, { recursive: true });
  await symlink(join(packageRoot(), 'bin', 'overcloud'), join(bin, 'overcloud'));
  // The seed says `openstack overcloud ...`: this shim lets its lines run as written.
  await writeFile(join(bin, 'openstack'), OPENSTACK_SHIM, { mode: 0o755 });
  return {
    home,
    netns,
    sh: (script) =>
      runStatus('nsenter', [`--net=${netns}`, 'bash', '-euo', 'pipefail', '-c', script], {
        cwd: home.dir,
        env: { ...process.env, HOME: home.dir, PATH: `${bin}:${process.env.PATH ?? ''}` },
        timeoutMs: 120_000,
      }),
    stop,
  };
}

/** ensureUnreachableRoute adds the seed subnet's `unreachable` route unless one is there already. */
async function ensureUnreachableRoute(): Promise<boolean> {
  const shown = (await run('ip', ['route', 'show', 'exact', SEED_SUBNET])).stdout.trim();
  if (shown.startsWith('unreachable')) return false;
  if (shown !== '')
    throw new Error(`${SEED_SUBNET} is routed in the root namespace (${shown}); not touching it`);
  await run('ip', ['route', 'add', 'unreachable', SEED_SUBNET]);
  return true;
}

/** waitForPort polls a TCP port inside the namespace for up to 15 s. */
async function waitForPort(netns: string, host: string, port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = await runStatus('nsenter', [
      `--net=${netns}`,
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${host}/${port}`,
    ]);
    if (probe.code === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} in ${netns} after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
