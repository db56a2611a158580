/**
 * @module cli/commands/container
 * `overcloud container list|logs`: the containers of the last deploy, read from the nodes.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import type { NodeConnection } from '../../process/index.js';
import { placeStack } from '../stack.js';

/** The deploy engine, loaded when a command runs rather than at every start of the CLI. */
const engine = async () => {
  const [processes, ops, record] = await Promise.all([
    import('../../process/index.js'),
    import('../../deploy/ops.js'),
    import('../../deploy/record.js'),
  ]);
  return { ...processes, ...ops, ...record };
};

interface StackFlags {
  stack: string;
  stateDir?: string;
}

/**
 * withNodes connects to the nodes of the stack's last deploy and runs fn; undefined when the command
 * ran instead in the stack's network namespace (its output already printed, its status set).
 */
async function withNodes<T>(
  flags: StackFlags,
  only: string | undefined,
  fn: (conns: NodeConnection[]) => Promise<T>,
): Promise<T | undefined> {
  const place = await placeStack(flags);
  if (!place.here) {
    process.exitCode = place.exitCode;
    return undefined;
  }
  const { loadRecord, connectAll, runProcess } = await engine();
  const record = await loadRecord(place.stateDir);
  const nodes = record.inventory.nodes.filter((n) => only === undefined || n.name === only);
  if (nodes.length === 0) throw new AppError('USAGE', `no node ${only} in the last deploy`);
  const conns = await connectAll(nodes, record.inventory.ssh, runProcess);
  try {
    return await fn(conns);
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}

/** registerContainer adds `list` and `logs` under `overcloud container`. */
export function registerContainer(container: Command): void {
  container
    .command('list')
    .description('list the deployed containers of every node: node, config_id, name, image, status, health')
    .option('--format <format>', 'table or json', 'table')
    .option('--stack <name>', 'stack name', 'overcloud')
    .option(
      '--state-dir <dir>',
      'the stack state folder (default: ~/.overcloud/<stack>, else the registered one)',
    )
    .exitOverride()
    .action(async (flags: StackFlags & { format: string }) => {
      if (flags.format !== 'table' && flags.format !== 'json')
        throw new AppError('USAGE', '--format must be table or json');
      const { listContainers, formatTable } = await engine();
      const rows = await withNodes(flags, undefined, listContainers);
      if (rows === undefined) return;
      process.stdout.write(
        `${flags.format === 'json' ? JSON.stringify(rows, null, 2) : formatTable(rows)}\n`,
      );
    });
  container
    .command('logs <node> <name>')
    .description("print a container's logs")
    .option('--tail <lines>', 'last lines only', '100')
    .option('--stack <name>', 'stack name', 'overcloud')
    .option(
      '--state-dir <dir>',
      'the stack state folder (default: ~/.overcloud/<stack>, else the registered one)',
    )
    .exitOverride()
    .action(async (node: string, name: string, flags: StackFlags & { tail: string }) => {
      if (!/^\d+$/.test(flags.tail)) throw new AppError('USAGE', '--tail must be a number of lines');
      const { containerLogs, findConnection } = await engine();
      const text = await withNodes(flags, node, (conns) =>
        containerLogs(findConnection(conns, node), name, Number(flags.tail)),
      );
      if (text !== undefined) process.stdout.write(text);
    });
}
