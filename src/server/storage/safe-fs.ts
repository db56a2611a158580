/**
 * @module server/storage/safe-fs
 * The file operations the store is allowed: none follows a symlink inside the store, every file and
 * folder is created with the store's modes, and with fsync a rename is made durable by syncing the
 * folder that holds the new entry (a file's own fsync does not cover its name).
 *
 * Why symlinks matter: the store is written by the server and read back by path. A symlink planted
 * inside it (by a restored backup, another user with access, a bug) would make the server serve or
 * overwrite a file outside the store. The last path component is opened with O_NOFOLLOW; the
 * folders on the way are checked once a second by realpath, which must be the store's own path.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';

export interface StoreModes {
  /** The store is its owner's only: folders 0700, files 0600 (with auth on). */
  private: boolean;
  /** fsync files before they become visible, and folders after a rename. */
  fsync: boolean;
}

/** How long a checked folder is trusted before it is checked again. */
const DIR_CHECK_TTL_MS = 1000;
const NOFOLLOW = constants.O_NOFOLLOW;

/** The error a symlink (or anything not a plain file or folder) inside the store raises. */
function symlinkRefused(path: string): NodeJS.ErrnoException {
  const e = new Error(`refusing to follow a symlink inside the store: ${path}`) as NodeJS.ErrnoException;
  e.code = 'ELOOP';
  return e;
}

export class SafeFs {
  readonly fileMode: number;
  readonly dirMode: number;
  readonly fsync: boolean;
  /** Whether the modes were asked for: only then does prepareRoot change existing folders' modes. */
  private readonly modesGiven: boolean;
  private realRoot: string | undefined;
  private readonly checkedDirs = new Map<string, number>();

  constructor(
    readonly root: string,
    opts: Partial<StoreModes> = {},
  ) {
    this.fileMode = opts.private ? 0o600 : 0o644;
    this.dirMode = opts.private ? 0o700 : 0o755;
    this.fsync = opts.fsync ?? false;
    this.modesGiven = opts.private !== undefined;
  }

  /** prepareRoot creates the root and its top folders, with the store's modes, refusing symlinks among them. */
  async prepareRoot(topDirs: string[]): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: this.dirMode });
    if (this.modesGiven) await chmod(this.root, this.dirMode);
    for (const d of topDirs) {
      await mkdir(d, { recursive: true, mode: this.dirMode });
      if (!(await lstat(d)).isDirectory()) throw symlinkRefused(d);
      if (this.modesGiven) await chmod(d, this.dirMode);
    }
  }

  /**
   * checkDir makes sure `dir` (inside the store) resolves to itself: no component between the root
   * and it is a symlink. A folder that does not exist yet passes (nothing to follow).
   */
  async checkDir(dir: string): Promise<void> {
    const now = Date.now();
    const until = this.checkedDirs.get(dir);
    if (until !== undefined && until > now) return;
    this.realRoot ??= await realpath(this.root);
    const rel = relative(this.root, dir);
    if (rel.startsWith('..') || rel.startsWith(sep)) throw symlinkRefused(dir);
    let real: string;
    try {
      real = await realpath(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (real !== join(this.realRoot, rel)) throw symlinkRefused(dir);
    if (this.checkedDirs.size > 10_000) this.checkedDirs.clear();
    this.checkedDirs.set(dir, now + DIR_CHECK_TTL_MS);
  }

  /** mkdirs creates a folder and its parents with the store's mode, then checks the path. */
  async mkdirs(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: this.dirMode });
    await this.checkDir(dir);
  }

  /** openRead opens a file for reading, refusing a symlink anywhere inside the store. */
  async openRead(path: string) {
    await this.checkDir(dirname(path));
    return open(path, constants.O_RDONLY | NOFOLLOW);
  }

  /** readFile reads a whole (small) file. */
  async readFile(path: string): Promise<Buffer> {
    const fh = await this.openRead(path);
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** fileStat is lstat that accepts only a plain file (a symlink reads as ELOOP). */
  async fileStat(path: string) {
    await this.checkDir(dirname(path));
    const st = await lstat(path);
    if (!st.isFile()) throw symlinkRefused(path);
    return st;
  }

  /** openWrite opens an existing file for writing in place (upload data), refusing symlinks. */
  async openWrite(path: string) {
    await this.checkDir(dirname(path));
    return open(path, constants.O_WRONLY | NOFOLLOW);
  }

  /** createFile creates a new file (O_EXCL: never an existing one, never through a link). */
  async createFile(path: string, data: string | Uint8Array = ''): Promise<void> {
    await this.mkdirs(dirname(path));
    const fh = await open(path, 'wx', this.fileMode);
    try {
      await fh.writeFile(data);
      if (this.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** writeEmpty makes sure an empty marker file exists (a repository's blob link). */
  async writeEmpty(path: string): Promise<void> {
    await this.mkdirs(dirname(path));
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | NOFOLLOW, this.fileMode);
    await fh.close();
  }

  /** writeAtomic replaces `path` with `data` by one rename of a new, synced file; with fsync, then syncs the folder. */
  async writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
    const dir = dirname(path);
    await this.mkdirs(dir);
    const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', this.fileMode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    try {
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await this.syncDir(dir);
  }

  /** removeFile unlinks a file (unlink never follows: a symlink itself would go, not its target). */
  async removeFile(path: string): Promise<void> {
    await this.checkDir(dirname(path));
    await rm(path);
  }

  /** touch sets a file's times to now, refusing symlinks. */
  async touch(path: string): Promise<void> {
    const fh = await this.openWrite(path).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EACCES') throw e;
      return this.openRead(path);
    });
    try {
      const now = new Date();
      await fh.utimes(now, now);
    } finally {
      await fh.close();
    }
  }

  /** syncDir fsyncs a folder (with fsync on), so the entries renamed into it survive power loss. */
  async syncDir(dir: string): Promise<void> {
    if (!this.fsync) return;
    const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
