/**
 * @module test/server/peers
 * The two registries the shared protocol suite runs against (ours in process, distribution 2.8 as
 * a child process), and a tiny HTTP helper that returns status, headers and body together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryServerOptions, startRegistryServer } from '../../src/server/index.js';
import { startDistribution } from '../support/distribution.js';

export interface Peer {
  kind: 'ours' | 'distribution';
  url: string;
  host: string;
  root: string;
  /** Our server's id (see src/server/announce.ts); distribution has none. */
  id?: string;
  stop(): Promise<void>;
}

/** startOurs runs our server on a random loopback port over a throwaway folder. */
export async function startOurs(opts: Partial<RegistryServerOptions> = {}): Promise<Peer> {
  const root = await mkdtemp(join(tmpdir(), 'overcloud-registry-'));
  const srv = await startRegistryServer({ enableDelete: true, ...opts, root, listen: '127.0.0.1:0' });
  return {
    kind: 'ours',
    url: srv.url,
    host: srv.host,
    root,
    id: srv.id,
    async stop() {
      await srv.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function startDistributionPeer(): Promise<Peer> {
  const d = await startDistribution({ deleteEnabled: true });
  return { kind: 'distribution', ...d };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The first error code of a spec error body. */
  code: string | undefined;
  json<T>(): T;
}

/** call makes one request (path or absolute URL) and reads the whole reply. */
export async function call(
  peer: Pick<Peer, 'url'>,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Reply> {
  const res = await fetch(new URL(path, peer.url), { method, headers: init.headers, body: init.body });
  const body = Buffer.from(await res.arrayBuffer());
  let code: string | undefined;
  try {
    code = (JSON.parse(body.toString()) as { errors?: { code: string }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  return {
    status: res.status,
    headers: res.headers,
    body,
    code,
    json: <T>() => JSON.parse(body.toString()) as T,
  };
}

/** startOursRecordingPuts is startOurs that also lists the digest of every blob upload a PUT completes (from its access log). */
export async function startOursRecordingPuts(): Promise<Peer & { puts: string[] }> {
  const puts: string[] = [];
  const peer = await startOurs({
    log: (line) => {
      const m = /"PUT \S+\/blobs\/uploads\/\S*digest=(sha256(?::|%3A)[0-9a-f]{64})/i.exec(line);
      if (m?.[1] !== undefined) puts.push(decodeURIComponent(m[1]));
    },
  });
  return { ...peer, puts };
}
