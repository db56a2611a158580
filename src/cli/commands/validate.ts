/**
 * @module cli/commands/validate
 * `overcloud validate`: prove a deployed overcloud works through the OpenStack client. The work is in
 * src/validate.
 */
import type { Command } from 'commander';
import { stateDir } from '../../deploy/record.js';
import { AppError } from '../../errors.js';
import { CHECKS } from '../../validate/checks.js';
import { runValidate } from '../../validate/index.js';

interface ValidateFlags {
  stack: string;
  stateDir?: string;
  rc?: string;
  only?: string;
  logLines: string;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check a deployed overcloud through the openstack client; each check is printed with its time',
    )
    .option('--stack <name>', 'stack name', 'overcloud')
    .option('--state-dir <dir>', 'the stack state folder (holds overcloudrc and services.json)')
    .option('--rc <file>', 'an overcloudrc to use instead of the stack one')
    .option(
      '--only <checks>',
      `comma-separated checks (default: those of the deployed services): ${CHECKS.map((c) => c.name).join(', ')}`,
    )
    .option('--log-lines <n>', 'container log lines shown for a failed check', '20')
    .exitOverride()
    .action(async (flags: ValidateFlags) => {
      if (!/^\d+$/.test(flags.logLines)) throw new AppError('USAGE', '--log-lines must be a whole number');
      await runValidate({
        stateDir: stateDir(flags.stack, flags.stateDir),
        rcFile: flags.rc,
        only: flags.only
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        logLines: Number(flags.logLines),
        out: (l) => process.stdout.write(`${l}\n`),
      });
    });
}
