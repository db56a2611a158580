/**
 * @module test/deploy/lab
 * Several isolated "hosts" on one machine: an undercloud network namespace with a bridge and a
 * registry, and nodes with their own namespace, address, sshd, podman storage and host folders (a
 * private mount namespace binds the node's own /var/lib/config-data, /var/lib/kolla/config_files,
 * /var/log/containers and /var/lib/tripleo-config). The subnet 10.231.X.0/24 exists only inside the namespaces; the root namespace
 * gets an `unreachable` route for it first, so nothing can leak to the default gateway.
 * Everything (namespaces, route, processes, storage) is removed by `down`, also after failures,
 * except the empty mount-point directories on the host (see below why).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../support/distribution.js';
import { run } from '../support/exec.js';
import { pushServiceImages } from './images.js';

export const MOUNTED_DIRS = [
  '/var/lib/config-data',
  '/var/lib/kolla/config_files',
  '/var/log/containers',
  // The Ansible driver's node folder (`overcloud paunch --node-dir`) lives under it.
  '/var/lib/tripleo-config',
];

export interface LabNode {
  name: string;
  role: string;
  ns: string;
  address: string;
  dir: string;
  sshd?: ChildProcess;
}

export interface Lab {
  dir: string;
  prefix: string;
  undercloud: { ns: string; address: string };
  nodes: LabNode[];
  /** Host nodes pull from: the registry in the undercloud namespace. */
  registryHost: string;
  /** http://127.0.0.1:PORT: the same store, served in the root namespace so tests can push. */
  pushUrl: string;
  inventoryFile: string;
  /** exec runs argv inside a namespace's network (nsenter --net, never ip netns exec). */
  inNs(ns: string, argv: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  /** inNode runs argv in a node's network and mount namespaces, with the node's podman config. */
  inNode(node: LabNode, argv: string[]): Promise<{ stdout: string; stderr: string }>;
  down(): Promise<void>;
}

async function sh(argv: string[]): Promise<string> {
  return (await run(argv[0] as string, argv.slice(1), 60_000)).stdout;
}

/** pickSubnet chooses 10.231.X.0/24 with X not routed yet. */
async function pickSubnet(): Promise<string> {
  const routes = await sh(['ip', 'route']);
  for (let i = 0; i < 50; i++) {
    const x = 1 + Math.floor(Math.random() * 250);
    if (!routes.includes(`10.231.${x}.`)) return `10.231.${x}`;
  }
  throw new Error('no free 10.231.X.0/24 subnet');
}

function podmanConfs(dir: string, base: string): { storage: string; containers: string } {
  const storage = `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`;
  // CONTAINERS_CONF replaces the system file, so keep its runtime, cgroup and ulimit settings.
  const containers = `${base.replace(/^\[engine\]$/m, `[engine]\ntmp_dir = "${dir}/tmp"`)}\n[network]\nnetwork_config_dir = "${dir}/networks"\n`;
  return { storage, containers };
}

export interface LabSpec {
  nodes: { name: string; role: string }[];
}

/** twoNodeLab is the e2e topology: a controller and a compute, with `images` pushed to the lab registry. */
export async function twoNodeLab(images: string[]): Promise<Lab> {
  const lab = await labUp({
    nodes: [
      { name: 'overcloud-controller-0', role: 'Controller' },
      { name: 'overcloud-novacompute-0', role: 'Compute' },
    ],
  });
  try {
    await pushServiceImages(lab.pushUrl, images);
  } catch (e) {
    await lab.down();
    throw e;
  }
  return lab;
}

/** labUp builds the lab; on any failure it tears down what it made and rethrows. */
export async function labUp(spec: LabSpec): Promise<Lab> {
  // Node folders are kept short on purpose: podman's attach socket lives under the run root, and a
  // unix socket path over 108 bytes makes every attached `podman run` wait ~20 s for a time-out.
  const prefix = await pickSubnet();
  const id = prefix.split('.')[2] as string;
  const dir = await mkdtemp(`/var/tmp/oc-lab-${id}-`);
  const uc = { ns: `oc${id}-uc`, address: `${prefix}.1` };
  const nodes: LabNode[] = spec.nodes.map((n, i) => ({
    ...n,
    ns: `oc${id}-n${i}`,
    address: `${prefix}.${11 + i}`,
    dir: join(dir, `n${i}`),
  }));
  const created: string[] = [];
  const procs: ChildProcess[] = [];
  let registry: ChildProcess | undefined;
  let pushRegistry: ChildProcess | undefined;
  const pushPort = await freePort();
  const inNs = (ns: string, argv: string[], timeoutMs = 60_000) =>
    run('nsenter', [`--net=/run/netns/${ns}`, ...argv], timeoutMs);

  const lab: Lab = {
    dir,
    prefix,
    undercloud: uc,
    nodes,
    registryHost: `${uc.address}:5000`,
    pushUrl: `http://127.0.0.1:${pushPort}`,
    inventoryFile: join(dir, 'inventory.yaml'),
    inNs,
    inNode: (node, argv) => {
      const pid = node.sshd?.pid;
      if (pid === undefined) throw new Error(`node ${node.name} has no sshd`);
      return run(
        'nsenter',
        [
          `--target=${pid}`,
          '--net',
          '--mount',
          'env',
          `CONTAINERS_CONF=${node.dir}/containers.conf`,
          `CONTAINERS_STORAGE_CONF=${node.dir}/storage.conf`,
          ...argv,
        ],
        60_000,
      );
    },
    async down() {
      for (const n of nodes) {
        if (n.sshd?.pid !== undefined && n.sshd.exitCode === null) {
          await lab.inNode(n, ['podman', 'rm', '-a', '-f', '-t', '0']).catch(() => undefined);
        }
      }
      for (const p of [...procs, ...(registry ? [registry] : []), ...(pushRegistry ? [pushRegistry] : [])])
        if (p.exitCode === null) p.kill('SIGKILL');
      for (const ns of created) {
        // Leftovers (ssh mux masters, conmon) die with a kill of the namespace's processes.
        const pids = (await sh(['ip', 'netns', 'pids', ns]).catch(() => '')).split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
      }
      await sh(['ip', 'route', 'del', 'unreachable', `${prefix}.0/24`]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };

  try {
    // Safety net first: lab packets from the root namespace fail locally.
    await sh(['ip', 'route', 'add', 'unreachable', `${prefix}.0/24`]);
    const route = await sh(['ip', 'route', 'get', uc.address]).catch((e: Error) => e.message);
    if (route.includes(' via ')) throw new Error(`lab subnet routed via a gateway: ${route}`);

    await sh(['ip', 'netns', 'add', uc.ns]);
    created.push(uc.ns);
    await sh(['ip', '-n', uc.ns, 'link', 'set', 'lo', 'up']);
    await sh(['ip', '-n', uc.ns, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(['ip', '-n', uc.ns, 'addr', 'add', `${uc.address}/24`, 'dev', 'br0']);
    await sh(['ip', '-n', uc.ns, 'link', 'set', 'br0', 'up']);

    await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), {
      mode: 0o600,
    });
    // The mount points are created if missing and never removed: removing a directory that is a mount
    // point in another lab's node namespace would detach that node's bind mount, and its config would
    // land on the host. Empty directories at the standard paths are harmless.
    for (const d of MOUNTED_DIRS) await mkdir(d, { recursive: true });
    await mkdir('/run/sshd', { recursive: true });
    const baseConf = await readFile('/etc/containers/containers.conf', 'utf8');

    for (const [i, n] of nodes.entries()) {
      await sh(['ip', 'netns', 'add', n.ns]);
      created.push(n.ns);
      const a = `oc${id}n${i}a`;
      const b = `oc${id}n${i}b`;
      await sh(['ip', '-n', n.ns, 'link', 'set', 'lo', 'up']);
      await sh(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      await sh(['ip', 'link', 'set', a, 'netns', n.ns]);
      await sh(['ip', 'link', 'set', b, 'netns', uc.ns]);
      await sh(['ip', '-n', n.ns, 'link', 'set', a, 'name', 'eth0']);
      await sh(['ip', '-n', n.ns, 'addr', 'add', `${n.address}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', n.ns, 'link', 'set', 'eth0', 'up']);
      await sh(['ip', '-n', uc.ns, 'link', 'set', b, 'master', 'br0']);
      await sh(['ip', '-n', uc.ns, 'link', 'set', b, 'up']);

      for (const sub of [
        'storage',
        'run',
        'tmp',
        'networks',
        'fs/config-data',
        'fs/kolla',
        'fs/log',
        'fs/tripleo',
      ])
        await mkdir(join(n.dir, sub), { recursive: true });
      const confs = podmanConfs(n.dir, baseConf);
      await writeFile(join(n.dir, 'storage.conf'), confs.storage);
      await writeFile(join(n.dir, 'containers.conf'), confs.containers);
      await writeFile(
        join(n.dir, 'sshd_config'),
        [
          `ListenAddress ${n.address}:22`,
          `HostKey ${dir}/host_key`,
          `PidFile ${n.dir}/sshd.pid`,
          `AuthorizedKeysFile ${dir}/authorized_keys`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'MaxSessions 50',
          'MaxStartups 50',
          `SetEnv CONTAINERS_CONF=${n.dir}/containers.conf CONTAINERS_STORAGE_CONF=${n.dir}/storage.conf`,
          '',
        ].join('\n'),
      );
      const binds = [
        [`${n.dir}/fs/config-data`, '/var/lib/config-data'],
        [`${n.dir}/fs/kolla`, '/var/lib/kolla/config_files'],
        [`${n.dir}/fs/log`, '/var/log/containers'],
        [`${n.dir}/fs/tripleo`, '/var/lib/tripleo-config'],
      ]
        .map(([from, to]) => `mount --bind ${from} ${to}`)
        .join(' && ');
      const log = openSync(join(n.dir, 'sshd.log'), 'a');
      const p = spawn(
        'nsenter',
        [
          `--net=/run/netns/${n.ns}`,
          'unshare',
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          `${binds} && exec /usr/sbin/sshd -D -e -f ${n.dir}/sshd_config`,
        ],
        { stdio: ['ignore', log, log] },
      );
      procs.push(p);
      n.sshd = p;
    }

    await writeFile(
      join(dir, 'registry.yml'),
      `version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage:\n  filesystem: {rootdirectory: ${dir}/registry}\n  delete: {enabled: true}\nhttp: {addr: "${uc.address}:5000"}\n`,
    );
    await mkdir(join(dir, 'registry'));
    registry = spawn(
      'nsenter',
      [`--net=/run/netns/${uc.ns}`, 'docker-registry', 'serve', join(dir, 'registry.yml')],
      { stdio: 'ignore' },
    );
    // A second distribution process on loopback shares the store (plain files, no cache): tests push
    // there from the root namespace, nodes pull from the lab address.
    const pushConf = join(dir, 'push-registry.yml');
    await writeFile(
      pushConf,
      (await readFile(join(dir, 'registry.yml'), 'utf8')).replace(
        `${uc.address}:5000`,
        `127.0.0.1:${pushPort}`,
      ),
    );
    pushRegistry = spawn('docker-registry', ['serve', pushConf], { stdio: 'ignore' });
    await waitFor(async () => {
      const res = await fetch(`${lab.pushUrl}/v2/`);
      await res.arrayBuffer();
    }, 'loopback registry');
    await waitFor(async () => {
      await inNs(uc.ns, ['busybox', 'wget', '-q', '-O', '/dev/null', `http://${uc.address}:5000/v2/`], 5000);
    }, 'lab registry');
    for (const n of nodes) {
      await waitFor(async () => {
        await inNs(uc.ns, ['ssh', ...sshOptions(dir), `root@${n.address}`, 'true'], 10_000);
      }, `sshd on ${n.name}`);
    }
    await writeFile(
      lab.inventoryFile,
      [
        'nodes:',
        ...nodes.map((n) => `  - {name: ${n.name}, role: ${n.role}, address: ${n.address}, user: root}`),
        'ssh:',
        `  identity_file: ${dir}/client_key`,
        '  options: {StrictHostKeyChecking: "no", UserKnownHostsFile: /dev/null, LogLevel: ERROR}',
        '',
      ].join('\n'),
    );
    return lab;
  } catch (e) {
    await lab.down();
    throw e;
  }
}

export function sshOptions(dir: string): string[] {
  return [
    '-i',
    `${dir}/client_key`,
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
  ];
}

async function waitFor(fn: () => Promise<void>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what} not ready: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
