/**
 * @module util/fs
 * Reading a file that may not be there: one helper instead of a try/catch at every call. Only
 * "no such file" gives the fallback; any other failure (a directory, no permission) is thrown,
 * so an unreadable file is never taken for an empty one.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** isMissing: the error says the path (or a folder on it) does not exist. */
export function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** readTextOr reads a UTF-8 file, or returns `fallback` when it does not exist. */
export async function readTextOr<T>(path: string, fallback: T): Promise<string | T> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isMissing(e)) return fallback;
    throw e;
  }
}

/** readTextOrSync is readTextOr for the few places that must not wait (lock files, start-up config). */
export function readTextOrSync<T>(path: string, fallback: T): string | T {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (isMissing(e)) return fallback;
    throw e;
  }
}
