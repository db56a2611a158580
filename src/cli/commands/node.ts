/**
 * @module cli/commands/node
 * `overcloud node delete`: TripleO's scale-in. The work is in src/nodes.
 */
import type { Command } from 'commander';

interface NodeDeleteFlags {
  stack: string;
  stateDir?: string;
  allowController?: boolean;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerNode(node: Command): void {
  node
    .command('delete <nodes...>')
    .description(
      'remove nodes from a deployed stack: refuse while servers run there, disable and delete their nova-compute service and network agents, stop their containers; the next deploy leaves them out',
    )
    .option('--stack <name>', 'stack name', 'overcloud')
    .option('--state-dir <dir>', 'the stack state folder')
    .option('--allow-controller', 'also remove nodes that run control-plane services (say so explicitly)')
    .option('--force', 'remove compute nodes although servers still run there (those servers are lost)')
    .option('--dry-run', 'print what would be removed, change nothing')
    .option('--json', 'with --dry-run: print the plan as JSON')
    .option('-y, --yes', "accepted for TripleO's command line (this command never prompts)")
    .exitOverride()
    .action(async (names: string[], flags: NodeDeleteFlags) => {
      const [{ stateDir }, { deleteNodes }] = await Promise.all([
        import('../../deploy/record.js'),
        import('../../nodes/index.js'),
      ]);
      const plan = await deleteNodes({
        stack: flags.stack,
        stateDir: stateDir(flags.stack, flags.stateDir),
        names,
        allowController: flags.allowController === true,
        force: flags.force === true,
        dryRun: flags.dryRun === true,
        out: (l) => process.stdout.write(`${l}\n`),
      });
      if (!flags.dryRun) return;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
        return;
      }
      for (const d of plan.deletions)
        process.stdout.write(
          `would remove ${d.node.name} (${d.node.role})${d.compute ? ': nova-compute' : ''}${d.networkAgents ? ', network agents' : ''}${d.controlPlane.length ? `, control plane: ${d.controlPlane.join(', ')}` : ''}\n`,
        );
      process.stdout.write(`${plan.remaining.length} node(s) would remain: ${plan.remaining.join(', ')}\n`);
    });
}
