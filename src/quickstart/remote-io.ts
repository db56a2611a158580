/**
 * @module quickstart/remote-io
 * The bytes of a remote run: the shipment as a gzipped tar made in memory (no local tar needed, and
 * files can come from anywhere, like a config outside the checkout), the results' tar read back, and
 * ssh processes whose output is passed through as it comes or collected whole.
 */
import { readFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { type ProcessResult, runProcess } from '../process/index.js';
import { MARK_DIR } from './remote-scripts.js';
import type { ShipFile } from './ship.js';

/** tarball packs the files (and the manifest the remote side uses to drop files no longer shipped). */
export async function tarball(files: ShipFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const gz = pack.pipe(createGzip());
  const chunks: Buffer[] = [];
  gz.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<void>((res, rej) => {
    gz.on('end', () => res());
    gz.on('error', rej);
  });
  const manifest = Buffer.from(files.map((f) => `${f.path}\n`).join(''));
  pack.entry({ name: `${MARK_DIR}/manifest`, mode: 0o644 }, manifest);
  for (const f of files) pack.entry({ name: f.path, mode: f.mode }, await readFile(f.source));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A remote quickstart builds and deploys a whole cloud: hours at most, never forever. */
const REMOTE_RUN_TIMEOUT_MS = 6 * 60 * 60_000;
/** Shipping the build or fetching the results: minutes on a slow link. */
const TRANSFER_TIMEOUT_MS = 30 * 60_000;

/** stream runs the ssh command, passing its output through as it comes; resolves with status and stdout. */
export function stream(argv: string[], tty: boolean): Promise<ProcessResult> {
  // With a terminal, ssh reads it (Ctrl-C goes to the remote side); without one, nothing to read.
  return runProcess(argv, { stdin: tty ? 'inherit' : 'pipe', echo: true, timeoutMs: REMOTE_RUN_TIMEOUT_MS });
}

/** collect runs the ssh command quietly and returns its raw stdout, whole (a tar of results). */
export async function collect(
  argv: string[],
  input?: Buffer,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const chunks: Buffer[] = [];
  const r = await runProcess(argv, {
    ...(input === undefined ? {} : { input }),
    onStdout: (b) => chunks.push(b),
    timeoutMs: TRANSFER_TIMEOUT_MS,
  });
  return { code: r.code, stdout: Buffer.concat(chunks), stderr: r.stderr };
}

export async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  if (data.length === 0) return files;
  const ex = tar.extract();
  const done = new Promise<void>((res, rej) => {
    ex.on('entry', (header, body, next) => {
      const parts: Buffer[] = [];
      body.on('data', (b: unknown) => parts.push(b as Buffer));
      body.on('end', () => {
        if (header.type === 'file') files.set(header.name, Buffer.concat(parts));
        next();
      });
      body.resume();
    });
    ex.on('finish', () => res());
    ex.on('error', rej);
  });
  ex.end(data);
  await done;
  return files;
}
