/**
 * @module validate/nodes
 * What some checks need besides the API: a look on a node (a router's namespace, the metadata API
 * as the controller sees it) over the last deploy's own connections, and the stack's generated
 * passwords (Redis has no Keystone). Connections open on first use and close with `close()`.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { type InventoryNode, loadRecord, passwordsFile } from '../deploy/index.js';
import { AppError } from '../errors.js';
import { connectAll, describeFailure, type NodeConnection, runProcess } from '../process/index.js';

export interface NodeAccess {
  /** address is the node's address in the last deploy's inventory. */
  address(node: string): Promise<string>;
  /** shell runs a POSIX sh script on the node; a non-zero exit throws with its output. */
  shell(node: string, script: string, timeoutMs?: number): Promise<string>;
  /** password is one of the stack's generated passwords (passwords.yaml). */
  password(name: string): Promise<string>;
  close(): Promise<void>;
}

/** nodeAccess reaches the nodes of the deploy recorded in stateDir, lazily. */
export function nodeAccess(stateDir: string): NodeAccess {
  let conns: Promise<NodeConnection[]> | undefined;
  let nodes: Promise<InventoryNode[]> | undefined;
  const inventory = (): Promise<InventoryNode[]> => {
    nodes ??= loadRecord(stateDir).then((r) => r.inventory.nodes);
    return nodes;
  };
  const connection = async (name: string): Promise<NodeConnection> => {
    conns ??= loadRecord(stateDir).then((r) => connectAll(r.inventory.nodes, r.inventory.ssh, runProcess));
    const c = (await conns).find((x) => x.node.name === name);
    if (!c) throw new AppError('VALIDATE_FAILED', `node ${name} is not in the last deploy`);
    return c;
  };
  return {
    async address(name) {
      const n = (await inventory()).find((x) => x.name === name);
      if (!n) throw new AppError('VALIDATE_FAILED', `node ${name} is not in the last deploy`);
      return n.address;
    },
    async shell(name, script, timeoutMs = 60_000) {
      const r = await (await connection(name)).shell(script, { timeoutMs });
      if (r.code !== 0)
        throw new AppError(
          'VALIDATE_FAILED',
          `${name}: ${describeFailure(r)}: ${`${r.stdout}${r.stderr}`.trim()}`,
        );
      return r.stdout;
    },
    async password(key) {
      const doc = parse(await readFile(passwordsFile(stateDir), 'utf8')) as {
        parameter_defaults?: Record<string, unknown>;
      } | null;
      const v = doc?.parameter_defaults?.[key];
      if (v === undefined)
        throw new AppError('VALIDATE_FAILED', `${passwordsFile(stateDir)} has no ${key}`, {
          hint: 'validate reads the passwords the deploy generated; pass the same --state-dir',
        });
      return String(v);
    },
    async close() {
      if (!conns) return;
      const list = await conns.catch(() => [] as NodeConnection[]);
      await Promise.all(list.map((c) => c.close()));
    },
  };
}
