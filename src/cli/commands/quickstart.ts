/**
 * @module cli/commands/quickstart
 * `overcloud quickstart --config FILE [--teardown [--purge]] [--verbose]`: the seed's whole workflow
 * on a lab of network namespaces (src/quickstart), or its removal.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { loadConfig } from '../../lab/config.js';
import { loadTopology, runQuickstart, summaryLines, teardown } from '../../quickstart/run.js';

interface QuickstartFlags {
  config: string;
  teardown?: boolean;
  purge?: boolean;
  verbose?: boolean;
  json?: boolean;
}

/** registerQuickstart adds `quickstart` to the program. */
export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('deploy the containerized overcloud on simulated nodes (network namespaces), end to end')
    .requiredOption('--config <file>', 'quickstart configuration (e.g. config/containers_minimal.yml)')
    .option('--teardown', 'remove everything the quickstart created (built images stay)')
    .option('--purge', 'with --teardown: also remove the built images and the upstream registry store')
    .option('-v, --verbose', 'show the output of every stage')
    .option('--json', 'print the report as JSON on stdout (progress goes to stderr)')
    .exitOverride()
    .action(async (flags: QuickstartFlags) => {
      if (flags.purge && !flags.teardown) throw new AppError('USAGE', '--purge goes with --teardown');
      const config = await loadConfig(flags.config);
      const out = (l: string): void => {
        (flags.json ? process.stderr : process.stdout).write(`${l}\n`);
      };
      const err = (l: string): void => {
        process.stderr.write(`${l}\n`);
      };
      const opts = { verbose: flags.verbose === true, out, err };
      if (flags.teardown) {
        const removed = await teardown(config, flags.purge === true, opts);
        out(
          removed.length === 0
            ? 'teardown: nothing to remove'
            : `teardown: removed ${removed.length} item(s)`,
        );
        if (flags.json) process.stdout.write(`${JSON.stringify({ removed }, null, 2)}\n`);
        return;
      }
      const report = await runQuickstart(config, opts);
      const { topo } = await loadTopology(config);
      for (const l of summaryLines(config, report, topo)) out(l);
      if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
