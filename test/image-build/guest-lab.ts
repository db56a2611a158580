/**
 * @module test/build/guest-lab
 * ROOT-ONLY. A network namespace for booting the guest image under QEMU: a bridge with the
 * gateway address and 169.254.169.254, two taps for guests, busybox udhcpd (a static lease per
 * guest MAC) and busybox httpd serving OpenStack-format metadata (meta_data.json with an SSH key
 * and a hostname). The subnet 10.239.X.0/24 gets an `unreachable` route in the root namespace
 * before any address exists; namespaces are entered with `nsenter --net=`. `down` removes
 * everything (processes, namespace, route, files), also after failures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runStatus } from '../support/exec.js';

export interface LabGuest {
  ip: string;
  mac: string;
  tap: string;
}

export interface GuestLab {
  ns: string;
  dir: string;
  gateway: string;
  /** two guest slots: a tap on the bridge and a static DHCP lease each */
  guests: [LabGuest, LabGuest];
  /** the private key whose public half the metadata serves */
  keyFile: string;
  /** the hostname the metadata serves */
  hostname: string;
  /** argv inside the namespace's network */
  nsArgv(argv: string[]): string[];
  /** start a long-running process inside the namespace, output to dir/<name>.log */
  startInNs(name: string, argv: string[]): ChildProcess;
  down(): Promise<void>;
}

/** pickSubnet chooses 10.239.X.0/24 that nothing routes yet. */
async function pickSubnet(): Promise<string> {
  const routes = (await run('ip', ['route'])).stdout;
  for (let i = 0; i < 50; i++) {
    const x = 10 + ((process.pid + i * 7) % 240);
    if (!routes.includes(`10.239.${x}.`)) return `10.239.${x}`;
  }
  throw new Error('no free 10.239.X.0/24 subnet for the guest lab');
}

/** startGuestLab builds the namespace, DHCP and metadata; the caller must call down(). */
export async function startGuestLab(): Promise<GuestLab> {
  const prefix = await pickSubnet();
  const subnet = `${prefix}.0/24`;
  const ns = `ocguest${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'overcloud-guest-lab-'));
  const procs: ChildProcess[] = [];
  let routeAdded = false;
  let nsAdded = false;
  const nsArgv = (argv: string[]): string[] => ['nsenter', `--net=/run/netns/${ns}`, ...argv];
  const lab: GuestLab = {
    ns,
    dir,
    gateway: `${prefix}.1`,
    guests: [
      { ip: `${prefix}.10`, mac: '52:54:00:6f:63:01', tap: 'tap0' },
      { ip: `${prefix}.11`, mac: '52:54:00:6f:63:02', tap: 'tap1' },
    ],
    keyFile: join(dir, 'id_ed25519'),
    hostname: `guest-${process.pid}.novalocal`,
    nsArgv,
    startInNs(name, argv) {
      const out = openSync(join(dir, `${name}.log`), 'a');
      const all = nsArgv(argv);
      const p = spawn(all[0] as string, all.slice(1), { stdio: ['ignore', out, out] });
      procs.push(p);
      return p;
    },
    async down() {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      if (nsAdded) {
        const pids = (await runStatus('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await runStatus('ip', ['netns', 'del', ns]);
      }
      if (routeAdded) await runStatus('ip', ['route', 'del', 'unreachable', subnet]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    // Safety first: the subnet fails locally in the root namespace before any address exists.
    await run('ip', ['route', 'add', 'unreachable', subnet]);
    routeAdded = true;
    await run('ip', ['netns', 'add', ns]);
    nsAdded = true;
    const ip = (args: string[]): Promise<unknown> => run('ip', ['-n', ns, ...args]);
    await ip(['link', 'set', 'lo', 'up']);
    await ip(['link', 'add', 'br0', 'type', 'bridge']);
    await ip(['addr', 'add', `${lab.gateway}/24`, 'dev', 'br0']);
    await ip(['addr', 'add', '169.254.169.254/32', 'dev', 'br0']);
    await ip(['link', 'set', 'br0', 'up']);
    for (const g of lab.guests) {
      await ip(['tuntap', 'add', 'dev', g.tap, 'mode', 'tap']);
      await ip(['link', 'set', g.tap, 'master', 'br0']);
      await ip(['link', 'set', g.tap, 'up']);
    }
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'guest-test', '-f', lab.keyFile]);
    await writeMetadata(lab, join(dir, 'metadata'), lab.hostname);
    await writeFile(join(dir, 'leases'), '');
    await writeFile(
      join(dir, 'udhcpd.conf'),
      [
        `start ${prefix}.100`,
        `end ${prefix}.150`,
        'interface br0',
        `lease_file ${join(dir, 'leases')}`,
        `pidfile ${join(dir, 'udhcpd.pid')}`,
        ...lab.guests.map((g) => `static_lease ${g.mac} ${g.ip}`),
        'option subnet 255.255.255.0',
        `option router ${lab.gateway}`,
        'option lease 3600',
        '',
      ].join('\n'),
    );
    lab.startInNs('udhcpd', ['busybox', 'udhcpd', '-f', join(dir, 'udhcpd.conf')]);
    lab.startInNs('httpd', [
      'busybox',
      'httpd',
      '-f',
      '-vv',
      '-p',
      '169.254.169.254:80',
      '-h',
      join(dir, 'metadata'),
    ]);
    return lab;
  } catch (e) {
    await lab.down();
    throw e;
  }
}

/**
 * writeMetadata writes <root>/openstack/latest/meta_data.json as Nova's metadata API serves it and
 * as a config drive holds it.
 */
export async function writeMetadata(lab: GuestLab, root: string, hostname: string): Promise<void> {
  const latest = join(root, 'openstack', 'latest');
  await mkdir(latest, { recursive: true });
  const publicKey = (await readFile(`${lab.keyFile}.pub`, 'utf8')).trim();
  const name = hostname.split('.')[0] as string;
  const meta = {
    uuid: '6f636775-6573-7400-0000-000000000001',
    public_keys: { 'guest-test': `${publicKey}\n` },
    keys: [{ name: 'guest-test', type: 'ssh', data: `${publicKey}\n` }],
    hostname,
    name,
    launch_index: 0,
    availability_zone: 'nova',
    random_seed: 'b2MtZ3Vlc3Q=',
    project_id: '00000000000000000000000000000000',
    devices: [],
  };
  await writeFile(join(latest, 'meta_data.json'), JSON.stringify(meta));
}
