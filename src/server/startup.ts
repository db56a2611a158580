/**
 * @module server/startup
 * The steps of startRegistryServer that can fail on the machine rather than on a request: each
 * turns its failure into an error that names the file, folder or address and says what to do, or,
 * where the server can go on without it (the announce record), into a warning.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { AppError, errorMessage } from '../errors.js';
import { announce, recordsDir } from './announce.js';
import type { RegistryServerOptions } from './options.js';
import { FsStore } from './storage/fs.js';
import type { UploadStore } from './storage/uploads.js';

/** openStore opens (creating) the store, with a clear error when the folder cannot be used. */
export async function openStore(opts: RegistryServerOptions): Promise<FsStore> {
  try {
    return await FsStore.open(opts.root, {
      private: opts.htpasswd !== undefined,
      fsync: opts.fsync ?? false,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AppError('USAGE', `cannot use ${opts.root} as the registry's store: ${errorMessage(e)}`, {
      cause: e,
      hint:
        code === 'EACCES' || code === 'EPERM'
          ? 'run as a user who may write that folder, or choose another with --root'
          : undefined,
    });
  }
}

/** readTls reads the certificate and key, naming the file that cannot be read. */
export async function readTls(tls: { cert: string; key: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (path: string, what: string) =>
    readFile(path).catch((e: unknown) => {
      throw new AppError('FILE_NOT_FOUND', `cannot read the TLS ${what} ${path}: ${errorMessage(e)}`, {
        cause: e,
      });
    });
  const [cert, key] = await Promise.all([read(tls.cert, 'certificate'), read(tls.key, 'key')]);
  return { cert, key };
}

/** listen binds the server, turning the usual failures into errors that say what to do. */
export async function listen(server: Server, host: string, port: number, shown: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((e: NodeJS.ErrnoException) => {
    const why =
      e.code === 'EADDRINUSE'
        ? 'the address is already in use (another registry?)'
        : e.code === 'EACCES'
          ? 'permission denied (ports below 1024 need root)'
          : e.code === 'EADDRNOTAVAIL'
            ? 'no interface has that address'
            : errorMessage(e);
    throw new AppError('USAGE', `cannot listen on ${shown}: ${why}`, { cause: e });
  });
}

/** announceOrWarn writes the announce record; failing that, it warns and serves on without it. */
export async function announceOrWarn(
  record: Parameters<typeof announce>[0],
  warn: (message: string) => void,
): Promise<() => Promise<void>> {
  try {
    return await announce(record);
  } catch (e) {
    warn(
      `cannot write the announce record in ${recordsDir()} (${errorMessage(e)}): serving anyway; ` +
        'uploads on this machine will go through HTTP instead of writing the store in place',
    );
    return async () => {};
  }
}

/** startUploadPurge runs UploadStore.purge now and every interval; returns its stopper. */
export function startUploadPurge(
  uploads: UploadStore,
  ageMs: number,
  intervalMs: number,
  warn: (m: string) => void,
) {
  if (intervalMs <= 0) return () => {};
  const run = (): void => {
    uploads.purge(ageMs).catch((e: unknown) => warn(`upload purge failed: ${errorMessage(e)}`));
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
