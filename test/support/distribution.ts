/**
 * @module test/support/distribution
 * Starts Debian's `docker-registry` (distribution 2.8) on a random loopback port, as a real peer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/net.js';

export interface RunningRegistry {
  /** `127.0.0.1:PORT`, the registry host as image references name it. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  root: string;
  stop(): Promise<void>;
}

/** freePort asks the kernel for a free loopback port (the one in src/util, re-exported for the tests). */
export { freePort };

/** waitForHttp polls a URL until it answers (any status) or the deadline passes. */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface DistributionOptions {
  /** htpasswd file for Basic auth (bcrypt). */
  htpasswd?: string;
  deleteEnabled?: boolean;
}

/** startDistribution runs docker-registry with a throwaway filesystem store. */
export async function startDistribution(opts: DistributionOptions = {}): Promise<RunningRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'distribution-'));
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(root, 'data')}`,
    '  delete:',
    `    enabled: ${opts.deleteEnabled ?? true}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(opts.htpasswd ? ['auth:', '  htpasswd:', '    realm: test', `    path: ${opts.htpasswd}`] : []),
    '',
  ].join('\n');
  const configPath = join(root, 'config.yml');
  await writeFile(configPath, config);
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForHttp(`${url}/v2/`),
      new Promise((_, reject) =>
        child.once('exit', (code) => reject(new Error(`docker-registry exited ${code}: ${stderr}`))),
      ),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
    throw e;
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    root,
    async stop() {
      // Idempotent: a child killed by a signal has no exit code, only a signal code.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
}
