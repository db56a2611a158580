/**
 * @module deploy/ops
 * Operator commands on a deployed stack: list containers across nodes, show a container's logs, and
 * print the exact podman command that created it (paunch debug --action print-cmd), rebuilt from the
 * container's own config_data label.
 */
import { AppError } from '../errors.js';
import type { NodeConnection } from '../process/index.js';
import { describeFailure, shellQuote } from '../process/index.js';
import { mapLimit } from '../util/concurrency.js';
import { runArgs } from './podman-args.js';
import type { ContainerSpec } from './spec.js';
import { readState } from './state.js';

export interface ContainerRow {
  node: string;
  config_id: string;
  name: string;
  image: string;
  status: string;
  health: string;
  id: string;
  started_at: number;
}

/** listContainers reads every node's managed containers, in parallel. */
export async function listContainers(conns: NodeConnection[]): Promise<ContainerRow[]> {
  const perNode = await mapLimit(conns, 8, async (conn) => {
    const { observed } = await readState(conn);
    return observed.map(
      (o): ContainerRow => ({
        node: conn.node.name,
        config_id: o.labels.config_id ?? '',
        name: o.name,
        image: o.image,
        status: o.state === 'exited' || o.state === 'stopped' ? `exited (${o.exitCode})` : o.state,
        health: o.health ?? '',
        id: o.id,
        started_at: o.startedAt,
      }),
    );
  });
  return perNode
    .flat()
    .sort(
      (a, b) =>
        a.node.localeCompare(b.node) ||
        a.config_id.localeCompare(b.config_id) ||
        a.name.localeCompare(b.name),
    );
}

/** formatTable renders rows with aligned columns. */
export function formatTable(rows: ContainerRow[]): string {
  const cols = ['node', 'config_id', 'name', 'image', 'status', 'health'] as const;
  const cells = [cols.map((c) => c.toUpperCase()), ...rows.map((r) => cols.map((c) => String(r[c])))];
  const widths = cols.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function findConnection(conns: NodeConnection[], node: string): NodeConnection {
  const c = conns.find((x) => x.node.name === node);
  if (!c)
    throw new AppError('USAGE', `no node ${node} in the last deploy`, {
      hint: `nodes: ${conns.map((x) => x.node.name).join(', ')}`,
    });
  return c;
}

/** containerLogs returns the last `tail` lines of a container's output. */
export async function containerLogs(conn: NodeConnection, name: string, tail: number): Promise<string> {
  const r = await conn.podman(['logs', '--tail', String(tail), name], { timeoutMs: 60_000 });
  if (r.code !== 0)
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `${conn.node.name}: podman logs ${name}: ${describeFailure(r)}`,
    );
  return `${r.stdout}${r.stderr}`;
}

/** printCmd rebuilds the `podman run` of a managed container from its labels. */
export async function printCmd(conn: NodeConnection, name: string): Promise<string> {
  const { observed } = await readState(conn);
  const o = observed.find((x) => (x.labels.container_name ?? x.name) === name);
  if (!o) throw new AppError('USAGE', `${conn.node.name}: no managed container ${name}`);
  const configData = o.labels.config_data;
  if (!configData)
    throw new AppError('NODE_COMMAND_FAILED', `${conn.node.name}: ${name} has no config_data label`);
  const spec = JSON.parse(configData) as ContainerSpec;
  return shellQuote([
    'podman',
    ...runArgs({
      name,
      configId: o.labels.config_id ?? '',
      managedBy: o.labels.managed_by ?? '',
      spec,
      configData,
    }),
  ]);
}
