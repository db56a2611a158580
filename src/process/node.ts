/**
 * @module process/node
 * How commands reach a node: locally, or over SSH with one multiplexed connection per node (a
 * ControlMaster opened once, then every call rides on it: ~10 ms instead of a handshake). Both
 * expose the same calls, `podman(args)` and `shell(script)`, and go through an injected Runner.
 * Deploy, validate and the CLI's look-around commands share these connections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { describeFailure } from './error.js';
import type { ProcessResult, Runner, RunOptions } from './run.js';
import { shellQuote } from './shell-quote.js';

/** A node of the inventory: where it is and how to log in. */
export interface InventoryNode {
  name: string;
  role: string;
  address: string;
  user: string;
  port?: number;
  /** local: run podman on this machine; ssh: run it through `ssh user@address`. */
  connection: 'local' | 'ssh';
}

export interface SshSettings {
  identityFile?: string;
  /** Extra `-o Key=Value` options, e.g. StrictHostKeyChecking=no for labs. */
  options: Record<string, string>;
}

export interface NodeConnection {
  node: InventoryNode;
  podman(args: string[], opts?: RunOptions): Promise<ProcessResult>;
  /** shell runs a POSIX sh script on the node (given on stdin). */
  shell(script: string, opts?: RunOptions): Promise<ProcessResult>;
  close(): Promise<void>;
}

/** localConnection runs podman and sh on this machine. */
export function localConnection(node: InventoryNode, run: Runner): NodeConnection {
  return {
    node,
    podman: (args, opts) => run(['podman', ...args], opts),
    shell: (script, opts) => run(['sh', '-s'], { ...opts, input: script }),
    close: async () => {},
  };
}

/** sshArgs are the options of every ssh call to a node (BatchMode: never prompt). */
export function sshArgs(node: InventoryNode, ssh: SshSettings, controlPath: string): string[] {
  const args = ['-o', 'BatchMode=yes', '-o', `ControlPath=${controlPath}`, '-o', 'ConnectTimeout=10'];
  if (ssh.identityFile) args.push('-i', ssh.identityFile, '-o', 'IdentitiesOnly=yes');
  for (const [k, v] of Object.entries(ssh.options)) args.push('-o', `${k}=${v}`);
  if (node.port !== undefined) args.push('-p', String(node.port));
  args.push('-l', node.user);
  return args;
}

/** sshConnection opens the node's ControlMaster; every later call reuses it. */
export async function sshConnection(
  node: InventoryNode,
  ssh: SshSettings,
  run: Runner,
): Promise<NodeConnection> {
  const dir = mkdtempSync(join(tmpdir(), 'oc-ssh-'));
  const controlPath = join(dir, 'cm');
  const base = sshArgs(node, ssh, controlPath);
  const master = await run(
    ['ssh', ...base, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=300', '-f', '-N', node.address],
    { timeoutMs: 30_000 },
  );
  if (master.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `cannot reach node ${node.name} (${node.user}@${node.address}) over ssh: ${describeFailure(master)}`,
      {
        hint: 'check the inventory address and user, and that the key is authorized on the node',
      },
    );
  }
  const remote = (command: string, opts?: RunOptions): Promise<ProcessResult> =>
    run(['ssh', ...base, '-o', 'ControlMaster=no', node.address, '--', command], opts);
  return {
    node,
    podman: (args, opts) => remote(shellQuote(['podman', ...args]), opts),
    shell: (script, opts) => remote('sh -s', { ...opts, input: script }),
    async close() {
      await run(['ssh', ...base, '-O', 'exit', node.address], { timeoutMs: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** connectAll opens a connection per node, in parallel; if one fails, the others are closed. */
export async function connectAll(
  nodes: InventoryNode[],
  ssh: SshSettings,
  run: Runner,
): Promise<NodeConnection[]> {
  const results = await Promise.allSettled(
    nodes.map((n) =>
      n.connection === 'local' ? Promise.resolve(localConnection(n, run)) : sshConnection(n, ssh, run),
    ),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<NodeConnection>).value);
}
