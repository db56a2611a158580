/**
 * @module build/guest/cpio
 * A reproducible initramfs archive: cpio "newc" (what the kernel unpacks), entries sorted by path
 * with every parent folder listed first, inode numbers by that order, owner root and one fixed
 * mtime. The same entries give the same bytes. File contents stream from disk one at a time.
 */

import { createReadStream } from 'node:fs';
import { AppError } from '../../errors.js';

export type CpioEntry =
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'file'; mode: number; size: number; source: string | Buffer }
  | { path: string; kind: 'symlink'; target: string }
  | { path: string; kind: 'char'; mode: number; major: number; minor: number };

const TYPE = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 } as const;

/** normalise strips leading "/" and "./"; the archive's paths are relative to its root. */
export function normalise(path: string): string {
  const p = path.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
  if (p === '' || p.split('/').some((s) => s === '..' || s === '.' || s === ''))
    throw new AppError('RECIPE_INVALID', `bad initramfs path: ${JSON.stringify(path)}`);
  return p;
}

/**
 * orderEntries sorts by path (bytewise), adds missing parent folders (mode 0755) and refuses two
 * entries for one path: the order is what makes two builds identical.
 */
export function orderEntries(entries: readonly CpioEntry[]): CpioEntry[] {
  const byPath = new Map<string, CpioEntry>();
  for (const e of entries) {
    const path = normalise(e.path);
    if (byPath.has(path)) throw new AppError('RECIPE_INVALID', `initramfs path listed twice: ${path}`);
    byPath.set(path, { ...e, path });
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const have = byPath.get(dir);
      if (have === undefined) byPath.set(dir, { path: dir, kind: 'dir', mode: 0o755 });
      else if (have.kind !== 'dir')
        throw new AppError('RECIPE_INVALID', `initramfs path ${dir} is a ${have.kind} and a folder`);
    }
  }
  return [...byPath.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

/** header is one newc header plus the NUL-terminated name and its padding. */
export function header(fields: {
  ino: number;
  mode: number;
  nlink: number;
  mtime: number;
  size: number;
  rdevMajor?: number;
  rdevMinor?: number;
  name: string;
}): Buffer {
  const name = Buffer.from(`${fields.name}\0`);
  const text = [
    '070701',
    hex(fields.ino),
    hex(fields.mode),
    hex(0), // uid
    hex(0), // gid
    hex(fields.nlink),
    hex(fields.mtime),
    hex(fields.size),
    hex(0), // devmajor
    hex(0), // devminor
    hex(fields.rdevMajor ?? 0),
    hex(fields.rdevMinor ?? 0),
    hex(name.length),
    hex(0), // check
  ].join('');
  const head = Buffer.concat([Buffer.from(text, 'ascii'), name]);
  return Buffer.concat([head, pad4(head.length)]);
}

async function* contents(source: string | Buffer, size: number): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    yield source;
    return;
  }
  let seen = 0;
  for await (const chunk of createReadStream(source)) {
    seen += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (seen !== size)
    throw new AppError(
      'IMAGE_BUILD_FAILED',
      `${source} changed while archiving (${seen} bytes, expected ${size})`,
    );
}

/** cpioStream yields the archive of the entries (ordered by orderEntries) and its trailer. */
export async function* cpioStream(entries: readonly CpioEntry[], mtime: number): AsyncGenerator<Buffer> {
  let ino = 0;
  for (const e of orderEntries(entries)) {
    ino++;
    if (e.kind === 'dir') {
      yield header({ ino, mode: TYPE.dir | e.mode, nlink: 2, mtime, size: 0, name: e.path });
    } else if (e.kind === 'char') {
      yield header({
        ino,
        mode: TYPE.char | e.mode,
        nlink: 1,
        mtime,
        size: 0,
        rdevMajor: e.major,
        rdevMinor: e.minor,
        name: e.path,
      });
    } else if (e.kind === 'symlink') {
      const target = Buffer.from(e.target);
      yield header({ ino, mode: TYPE.symlink | 0o777, nlink: 1, mtime, size: target.length, name: e.path });
      yield Buffer.concat([target, pad4(target.length)]);
    } else {
      const size = Buffer.isBuffer(e.source) ? e.source.length : e.size;
      yield header({ ino, mode: TYPE.file | e.mode, nlink: 1, mtime, size, name: e.path });
      yield* contents(e.source, size);
      yield pad4(size);
    }
  }
  yield header({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, name: 'TRAILER!!!' });
}
