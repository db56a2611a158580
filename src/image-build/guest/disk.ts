/**
 * @module build/guest/disk
 * One bootable raw disk without loop devices or mounts: a hand-written MBR (syslinux's boot code),
 * a FAT16 file system made with mtools at the partition's offset, syslinux installed into it with
 * `--offset`, then the kernel, the initramfs and syslinux.cfg copied in. mtools and syslinux run
 * from their unpacked packages; mtools stamps SOURCE_DATE_EPOCH (in UTC) on every entry, and the
 * FAT serial is fixed, so the same inputs give the same bytes.
 */

import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { mbrSector, SECTOR } from './mbr.js';
import type { GuestRecipe } from './recipe.js';
import { execFile } from './spawn.js';

export interface DiskInputs {
  recipe: GuestRecipe;
  /** unpacked syslinux, syslinux-common and mtools folders */
  tools: { syslinux: string; syslinuxCommon: string; mtools: string };
  kernel: string;
  initramfs: string;
  epoch: number;
  /** where mtools and syslinux write their temporary files */
  workDir: string;
}

/** syslinuxConfig fills the kernel command line into boot/syslinux.cfg. */
export function syslinuxConfig(recipe: GuestRecipe): Buffer {
  const t = recipe.templates.find((f) => f.rel === 'boot/syslinux.cfg');
  if (t === undefined) throw new AppError('RECIPE_INVALID', 'recipe has no boot/syslinux.cfg');
  return Buffer.from(t.bytes.toString('utf8').replace(/@CMDLINE@/g, recipe.kernel.cmdline));
}

/** makeRawDisk writes the bootable disk image at `path` (which must not exist). */
export async function makeRawDisk(path: string, d: DiskInputs): Promise<void> {
  const disk = d.recipe.disk;
  const total = (disk.size_mib * 1024 * 1024) / SECTOR;
  const partSectors = total - disk.start_sector;
  const offset = disk.start_sector * SECTOR;
  const bootCode = (await readFile(join(d.tools.syslinuxCommon, 'usr/lib/syslinux/mbr/mbr.bin'))).subarray(
    0,
    440,
  );
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.truncate(total * SECTOR);
    const mbr = mbrSector(bootCode, disk.disk_signature, [
      { bootable: true, type: disk.partition_type, startLba: disk.start_sector, sectors: partSectors },
    ]);
    await fh.write(mbr, 0, mbr.length, 0);
  } finally {
    await fh.close();
  }
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(d.tools.mtools, 'usr/bin')}:${join(d.tools.syslinux, 'usr/bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    SOURCE_DATE_EPOCH: String(d.epoch),
    TZ: 'UTC',
    MTOOLS_SKIP_CHECK: '1',
    MTOOLSRC: '/dev/null',
    TMPDIR: d.workDir,
    HOME: d.workDir,
  };
  const image = `${path}@@${offset}`;
  const serial = disk.fat_serial.toString(16).padStart(8, '0');
  await execFile(
    'mformat',
    [
      '-i',
      image,
      '-T',
      String(partSectors),
      '-h',
      '64',
      '-s',
      '32',
      '-H',
      String(disk.start_sector),
      '-N',
      serial,
      '-v',
      disk.fat_label,
      '::',
    ],
    { env, timeoutMs: 60_000 },
  );
  await execFile('syslinux', ['--offset', String(offset), '--install', path], { env, timeoutMs: 60_000 });
  const cfg = join(d.workDir, 'syslinux.cfg');
  const fhc = await open(cfg, 'wx', 0o644);
  await fhc.writeFile(syslinuxConfig(d.recipe));
  await fhc.close();
  // One file per mcopy, in a fixed order: directory entries land in the same slots every time.
  for (const [src, name] of [
    [d.kernel, 'vmlinuz'],
    [d.initramfs, 'initrd.gz'],
    [cfg, 'syslinux.cfg'],
  ] as const) {
    await execFile('mcopy', ['-i', image, '-o', src, `::${name}`], { env, timeoutMs: 60_000 });
  }
}

/** makeQcow2 converts the raw disk to a compressed qcow2 with the host's qemu-img. */
export async function makeQcow2(raw: string, qcow2: string): Promise<void> {
  await execFile('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', '-c', raw, qcow2], {
    timeoutMs: 300_000,
  });
}
