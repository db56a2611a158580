// ROOT-ONLY end-to-end test (needs root, qemu-system-x86 and the Debian mirror; skipped otherwise,
// with the reason printed): build the guest image (or reuse the cached one), boot it under QEMU's
// TCG (never KVM: see docs/guests.md) on a tap in a network namespace of its own with DHCP and a
// metadata responder, then check the console markers, ping, SSH with the metadata's key, and the
// hostname the metadata gave. Everything is removed afterwards, also on failure.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CACHE_DIR } from '../../src/build/defaults.js';
import { buildGuestImage } from '../../src/build/guest/build.js';
import { run, runStatus } from '../support/exec.js';
import { type GuestLab, startGuestLab } from './guest-lab.js';

const MARKERS = ['overcloud-guest: network up', 'overcloud-guest: metadata ok', 'overcloud-guest: sshd up'];

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (namespaces, taps and routes need root)';
  if (!existsSync('/usr/bin/qemu-system-x86_64'))
    return 'qemu-system-x86_64 is not installed (scripts/setup-host.sh)';
  if (!existsSync('/usr/bin/qemu-img')) return 'qemu-img is not installed (scripts/setup-host.sh)';
  return undefined;
}

/** waitForConsole polls the serial log until every marker is there or the deadline passes. */
async function waitForConsole(
  file: string,
  markers: string[],
  deadline: number,
  qemu: ChildProcess,
): Promise<string> {
  for (;;) {
    const text = await readFile(file, 'latin1').catch(() => '');
    if (markers.every((m) => text.includes(m))) return text;
    if (qemu.exitCode !== null || qemu.signalCode !== null)
      throw new Error(
        `qemu exited (${qemu.exitCode ?? qemu.signalCode}) before the markers; console:\n${text.slice(-2000)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`markers missing after the time limit; console:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ssh = (lab: GuestLab, command: string): string[] =>
  lab.nsArgv([
    'ssh',
    '-i',
    lab.keyFile,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    `root@${lab.guestIp}`,
    command,
  ]);

test('guest image: boots under TCG, gets DHCP and metadata, answers ping and SSH with the metadata key', {
  timeout: 240_000,
}, async (t) => {
  const missing = missingPrerequisite();
  if (missing !== undefined) {
    console.log(`# SKIPPED guest boot e2e: ${missing}`);
    t.skip(missing);
    return;
  }
  let image: Awaited<ReturnType<typeof buildGuestImage>>;
  try {
    image = await buildGuestImage({
      cacheDir: DEFAULT_CACHE_DIR,
      format: 'raw',
      log: (l) => console.log(`# ${l}`),
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'MIRROR_UNREACHABLE') {
      console.log(`# SKIPPED guest boot e2e: ${(e as Error).message}`);
      t.skip('Debian mirror unreachable');
      return;
    }
    throw e;
  }
  assert.ok(image.bytes < 50 * 1024 * 1024, `the raw image is ${image.bytes} bytes, more than 50 MB`);
  // The qcow2 Glance may get instead holds the same disk.
  await run('qemu-img', [
    'compare',
    '-q',
    '-f',
    'raw',
    '-F',
    'qcow2',
    image.image,
    image.image.replace(/\.raw$/, '.qcow2'),
  ]);

  const lab = await startGuestLab();
  try {
    const consoleLog = join(lab.dir, 'console.log');
    const started = Date.now();
    const qemu = lab.startInNs('qemu', [
      'qemu-system-x86_64',
      '-accel',
      'tcg',
      '-m',
      '128',
      '-smp',
      '1',
      '-display',
      'none',
      '-nodefaults',
      '-no-reboot',
      '-drive',
      `file=${image.image},format=raw,if=virtio,snapshot=on`,
      '-netdev',
      `tap,id=n0,ifname=${lab.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=n0,mac=${lab.guestMac}`,
      '-serial',
      `file:${consoleLog}`,
    ]);
    const text = await waitForConsole(consoleLog, MARKERS, started + 90_000, qemu);
    console.log(`# markers after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.match(
      text,
      new RegExp(`overcloud-guest: network up eth0 ${lab.guestIp.replace(/\./g, '\\.')}/24`),
    );
    assert.match(
      text,
      /overcloud-guest: metadata ok from http:\/\/169\.254\.169\.254 hostname=guest-\d+ keys=1/,
    );

    const pingArgv = lab.nsArgv(['busybox', 'ping', '-c', '3', '-W', '2', lab.guestIp]);
    const ping = await runStatus(pingArgv[0] as string, pingArgv.slice(1), { timeoutMs: 15_000 });
    assert.equal(ping.code, 0, `ping failed: ${ping.stdout}${ping.stderr}`);
    assert.match(ping.stdout, /3 packets transmitted, 3 packets received/);

    const argv = ssh(lab, 'hostname; cat /proc/sys/kernel/osrelease; id -u');
    const out = await run(argv[0] as string, argv.slice(1), 30_000);
    const [hostname, kernel, uid] = out.stdout.trim().split('\n');
    assert.equal(
      hostname,
      lab.hostname.split('.')[0],
      'the hostname is the metadata one (short form, as cloud-init sets it)',
    );
    assert.match(kernel ?? '', /^6\.1\.0-\d+-amd64$/);
    assert.equal(uid, '0');
    console.log(`# ping and SSH answered ${((Date.now() - started) / 1000).toFixed(1)} s after qemu started`);

    // A wrong key is refused: the key really came from the metadata.
    const other = join(lab.dir, 'other_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const refused = ssh(lab, 'true').map((a) => (a === lab.keyFile ? other : a));
    const r = await runStatus(refused[0] as string, refused.slice(1), { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, 'SSH with a key the metadata did not list must fail');
  } finally {
    await lab.down();
  }
  assert.equal(existsSync(`/run/netns/${lab.ns}`), false, 'the namespace is gone');
  const route = await runStatus('ip', ['route', 'show', 'exact', `${lab.gateway.replace(/\.1$/, '.0')}/24`]);
  assert.equal(route.stdout.trim(), '', 'the unreachable route is gone');
});
