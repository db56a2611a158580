/**
 * @module quickstart/remote-io
 * The bytes of a remote run: the shipment as a gzipped tar made in memory (no local tar needed, and
 * files can come from anywhere, like a config outside the checkout), the results' tar read back, and
 * ssh processes whose output is passed through as it comes or collected whole.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
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

/** stream runs the ssh command, passing its output through as it comes; resolves with status and stdout. */
export function stream(
  argv: string[],
  tty: boolean,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const [file, ...args] = argv;
    // With a terminal, ssh reads it (Ctrl-C goes to the remote side); without one, nothing to read.
    const child = spawn(file as string, args, { stdio: [tty ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => {
      out.push(b);
      process.stdout.write(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      err.push(b);
      process.stderr.write(b);
    });
    child.on('error', (e) => res({ code: 127, stdout: '', stderr: String(e) }));
    child.on('close', (code, signal) =>
      res({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** collect runs the ssh command quietly and returns its raw stdout. */
export function collect(
  argv: string[],
  input?: Buffer,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((res) => {
    const [file, ...args] = argv;
    const child = spawn(file as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => res({ code: 127, stdout: Buffer.alloc(0), stderr: String(e) }));
    child.on('close', (code) =>
      res({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? Buffer.alloc(0));
  });
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
