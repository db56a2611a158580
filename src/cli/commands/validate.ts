/**
 * @module cli/commands/validate
 * `overcloud validate`: prove a deployed overcloud works through the OpenStack client. The work is in
 * src/validate.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
// The check names are in the help text. The module imports only Node's and errors; the validation
// itself (deploy engine, SSH) is imported when the command runs, to keep the CLI's start-up short.
import { CHECKS } from '../../validate/checks.js';
import { placeStack } from '../stack.js';

interface ValidateFlags {
  stack: string;
  stateDir?: string;
  rc?: string;
  only?: string;
  logLines: string;
  json?: boolean;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check a deployed overcloud through the openstack client; each check is printed with its time',
    )
    .option('--stack <name>', 'stack name', 'overcloud')
    .option(
      '--state-dir <dir>',
      'the stack state folder, with overcloudrc and services.json (default: ~/.overcloud/<stack>, else the registered one)',
    )
    .option('--rc <file>', 'an overcloudrc to use instead of the stack one')
    .option(
      '--only <checks>',
      `comma-separated checks (default: those of the deployed services): ${CHECKS.map((c) => c.name).join(', ')}`,
    )
    .option('--log-lines <n>', 'container log lines shown for a failed check', '20')
    .option('--json', 'print the results as JSON on stdout (the per-check lines go to stderr)')
    .exitOverride()
    .action(async (flags: ValidateFlags) => {
      if (!/^\d+$/.test(flags.logLines)) throw new AppError('USAGE', '--log-lines must be a whole number');
      const place = await placeStack(flags);
      if (!place.here) {
        process.exitCode = place.exitCode;
        return;
      }
      const { runValidate } = await import('../../validate/index.js');
      const result = await runValidate({
        stateDir: place.stateDir,
        rcFile: flags.rc,
        only: flags.only
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        logLines: Number(flags.logLines),
        out: (l) => (flags.json ? process.stderr : process.stdout).write(`${l}\n`),
      });
      if (flags.json) {
        const passed = result.results.filter((r) => r.ok).length;
        process.stdout.write(
          `${JSON.stringify({ passed, total: result.results.length, seconds: result.seconds, checks: result.results }, null, 2)}\n`,
        );
      }
    });
}
