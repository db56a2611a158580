/**
 * @module build/guest/virt-type
 * Is KVM usable here? Decided by a test boot, never by the presence of /dev/kvm: on a host whose
 * /dev/kvm is a software nested hypervisor (kvm_pvm) a stock guest kernel only spins in the
 * instruction emulator, and libvirt still advertises kvm. The guest's kernel and initramfs boot with
 * `-accel kvm` and `overcloud.probe` on the command line (/init then prints its first marker and
 * powers off); the marker within the time limit means `kvm` (Nova's `[libvirt] virt_type`,
 * TripleO's `NovaComputeLibvirtType`), anything else `qemu` (TCG).
 */
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from './spawn.js';

export type VirtType = 'kvm' | 'qemu';
export type Accel = 'kvm' | 'tcg';

/** The line /init prints under `overcloud.probe` right before it powers off. */
export const PROBE_MARKER = 'overcloud-guest: probe ok';

export interface ProbeBoot {
  kernel: string;
  initramfs: string;
  /** give up after this long (the guest is killed) */
  timeoutMs: number;
  qemu?: string;
}

export interface ProbeResult {
  reached: boolean;
  seconds: number;
  /** why not: time-out, qemu's error, or the console's last line */
  detail: string;
}

/**
 * probeArgs is the qemu command line of a probe boot (no disk, no network, serial to a file). QEMU's
 * default CPU model: the probe tests the accelerator, not CPU model passing (`-cpu host` made this
 * host's qemu abort on an MSR write, which says nothing about guests).
 */
export function probeArgs(accel: Accel, boot: ProbeBoot, serialFile: string): string[] {
  return [
    '-accel',
    accel,
    '-m',
    '128',
    '-smp',
    '1',
    '-display',
    'none',
    '-nodefaults',
    '-no-reboot',
    '-nic',
    'none',
    '-kernel',
    boot.kernel,
    '-initrd',
    boot.initramfs,
    '-append',
    'console=ttyS0 overcloud.probe panic=-1',
    '-serial',
    `file:${serialFile}`,
  ];
}

/** probeBoot boots the kernel once with `accel` and reports whether /init's marker appeared. */
export async function probeBoot(accel: Accel, boot: ProbeBoot): Promise<ProbeResult> {
  const dir = await mkdtemp(join(tmpdir(), 'overcloud-probe-'));
  const serial = join(dir, 'console.log');
  const started = Date.now();
  let failure = '';
  try {
    await execFile(boot.qemu ?? 'qemu-system-x86_64', probeArgs(accel, boot, serial), {
      timeoutMs: boot.timeoutMs,
    }).catch((e: Error & { code?: string }) => {
      failure = e.code === 'TIMEOUT' ? `no marker within ${boot.timeoutMs / 1000} s` : e.message;
    });
    const seconds = (Date.now() - started) / 1000;
    const consoleText = await readFile(serial, 'latin1').catch(() => '');
    if (consoleText.includes(PROBE_MARKER))
      return { reached: true, seconds, detail: `marker after ${seconds.toFixed(1)} s` };
    const last = consoleText.trim().split('\n').pop()?.trim() ?? '';
    return {
      reached: false,
      seconds,
      detail:
        failure ||
        `qemu ended without the marker${last === '' ? ' (empty console)' : `; console: ${last.slice(0, 200)}`}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface VirtTypeDecision {
  virtType: VirtType;
  reason: string;
}

/** detectVirtType answers kvm only when the device opens and a kvm test boot reaches userland. */
export async function detectVirtType(boot: ProbeBoot, device = '/dev/kvm'): Promise<VirtTypeDecision> {
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch {
    return { virtType: 'qemu', reason: `${device} is absent or not accessible` };
  }
  const r = await probeBoot('kvm', boot);
  if (r.reached) return { virtType: 'kvm', reason: `${device} booted the test guest (${r.detail})` };
  return { virtType: 'qemu', reason: `${device} exists but a kvm test boot failed: ${r.detail}` };
}
