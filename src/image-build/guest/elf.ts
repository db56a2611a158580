/**
 * @module build/guest/elf
 * Which shared libraries a program needs (its DT_NEEDED entries), read from the ELF file itself, so
 * that the build can refuse an initramfs whose programs would fail to start in the guest with
 * "error while loading shared libraries" (found otherwise only by booting it).
 */

const SHT_DYNAMIC = 6;
const DT_NEEDED = 1;

/** elfNeeded lists the DT_NEEDED sonames of a 64-bit little-endian ELF; undefined if not ELF64 LE. */
export function elfNeeded(elf: Buffer): string[] | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return undefined;
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i: number): { type: number; offset: number; size: number; link: number } => {
    const at = shoff + i * shentsize;
    if (at + 64 > elf.length)
      throw new AppError('IMAGE_BUILD_FAILED', 'ELF section header past the end of the file');
    return {
      type: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 0x18)),
      size: Number(elf.readBigUInt64LE(at + 0x20)),
      link: elf.readUInt32LE(at + 0x28),
    };
  };
  const needed: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_DYNAMIC) continue;
    const strtab = section(s.link);
    for (let at = s.offset; at + 16 <= s.offset + s.size; at += 16) {
      const tag = elf.readBigInt64LE(at);
      if (tag === 0n) break;
      if (tag !== BigInt(DT_NEEDED)) continue;
      const start = strtab.offset + Number(elf.readBigUInt64LE(at + 8));
      const end = elf.indexOf(0, start);
      if (end < 0) throw new AppError('IMAGE_BUILD_FAILED', 'ELF string table is not terminated');
      needed.push(elf.subarray(start, end).toString('latin1'));
    }
  }
  return needed;
}

/** Folders glibc's loader searches without ld.so.cache or LD_LIBRARY_PATH (Debian's multiarch). */
export const LOADER_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib', 'usr/lib', 'lib64'];

/**
 * missingLibraries returns "program: soname" for every needed library that no file in a loader
 * folder provides. `files` maps a guest path (no leading "/") to its needs (undefined: not ELF).
 */
export function missingLibraries(files: ReadonlyMap<string, readonly string[] | undefined>): string[] {
  const provided = new Set<string>();
  for (const path of files.keys()) {
    const slash = path.lastIndexOf('/');
    if (LOADER_DIRS.includes(path.slice(0, slash))) provided.add(path.slice(slash + 1));
  }
  const missing: string[] = [];
  for (const [path, needs] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const soname of needs ?? []) if (!provided.has(soname)) missing.push(`${path}: ${soname}`);
  return missing;
}

import { AppError } from '../../errors.js';
