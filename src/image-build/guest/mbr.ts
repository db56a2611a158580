/**
 * @module build/guest/mbr
 * The guest disk's first sector: syslinux's boot code, a fixed disk signature and one primary
 * partition, written by hand so that no partitioning tool (and no loop device) is needed.
 */

export const SECTOR = 512;

export interface MbrPartition {
  bootable: boolean;
  /** partition type byte, e.g. 0x0e FAT16 (LBA) */
  type: number;
  startLba: number;
  sectors: number;
}

/** chs is the legacy cylinder/head/sector address of an LBA (255 heads, 63 sectors), capped. */
export function chs(lba: number): [number, number, number] {
  const heads = 255;
  const perTrack = 63;
  let c = Math.floor(lba / (heads * perTrack));
  let h = Math.floor(lba / perTrack) % heads;
  let s = (lba % perTrack) + 1;
  if (c > 1023) [c, h, s] = [1023, 254, 63];
  return [h, ((c >> 2) & 0xc0) | s, c & 0xff];
}

/** mbrSector builds the 512-byte sector: boot code (at most 440 bytes), signature, partitions, 0x55AA. */
export function mbrSector(
  bootCode: Buffer,
  diskSignature: number,
  partitions: readonly MbrPartition[],
): Buffer {
  if (bootCode.length > 440)
    throw new AppError('INTERNAL', `MBR boot code is ${bootCode.length} bytes, at most 440 fit`);
  if (partitions.length > 4) throw new AppError('INTERNAL', 'an MBR holds at most 4 primary partitions');
  const sector = Buffer.alloc(SECTOR);
  bootCode.copy(sector, 0);
  sector.writeUInt32LE(diskSignature >>> 0, 440);
  partitions.forEach((p, i) => {
    if (p.startLba < 1 || p.sectors < 1)
      throw new AppError('INTERNAL', `partition ${i + 1}: bad start or size`);
    const at = 446 + 16 * i;
    sector[at] = p.bootable ? 0x80 : 0x00;
    Buffer.from(chs(p.startLba)).copy(sector, at + 1);
    sector[at + 4] = p.type;
    Buffer.from(chs(p.startLba + p.sectors - 1)).copy(sector, at + 5);
    sector.writeUInt32LE(p.startLba, at + 8);
    sector.writeUInt32LE(p.sectors, at + 12);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

import { AppError } from '../../errors.js';
