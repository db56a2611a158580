/**
 * @module cli/commands/paunch
 * `overcloud paunch pull|config|apply`: the node-side commands the config-download playbook runs on
 * each node (src/deploy/paunch). Each prints progress lines and ends with one JSON line (the result);
 * the exit status is 1 when a pull or the step failed, so Ansible marks the task failed.
 */
import type { Command } from 'commander';
import { DEFAULT_NODE_DIR } from '../../deploy/defaults.js';
import { AppError } from '../../errors.js';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const collect = (v: string, acc: string[]): string[] => [...acc, v];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function finish(result: { failure?: unknown; pullErrors?: unknown[] }): void {
  out(JSON.stringify(result));
  if (result.failure !== undefined || (result.pullErrors?.length ?? 0) > 0) process.exitCode = 1;
}

/** registerPaunch adds `paunch` and its three phases to the program. */
export function registerPaunch(program: Command): void {
  const paunch = program
    .command('paunch')
    .description('node side of `deploy --config-download`: converge this node, one phase or step per call')
    .exitOverride();
  const nodeDirOption = [
    '--node-dir <dir>',
    'where this node keeps its plan and the state of the running deploy',
    DEFAULT_NODE_DIR,
  ] as const;

  paunch
    .command('pull')
    .description(
      'store the node plan read from stdin (JSON or base64), pull the images this node lacks, say what has work',
    )
    .option(...nodeDirOption)
    .option('--pull <policy>', 'missing (default) or always', 'missing')
    .option('--insecure-registry <host>', 'registry reached over plain HTTP; repeatable', collect, [])
    .exitOverride()
    .action(async (flags: { nodeDir: string; pull: string; insecureRegistry: string[] }) => {
      if (flags.pull !== 'missing' && flags.pull !== 'always')
        throw new AppError('USAGE', '--pull must be missing or always');
      const { paunchPull } = await import('../../deploy/paunch.js');
      const { runProcess } = await import('../../process/index.js');
      finish(
        await paunchPull({ nodeDir: flags.nodeDir, run: runProcess, out }, await readStdin(), {
          pull: flags.pull,
          insecureRegistries: new Set(flags.insecureRegistry),
        }),
      );
    });

  paunch
    .command('config')
    .description('write the config files of the stored plan where they differ')
    .option(...nodeDirOption)
    .exitOverride()
    .action(async (flags: { nodeDir: string }) => {
      const { paunchConfig } = await import('../../deploy/paunch.js');
      const { runProcess } = await import('../../process/index.js');
      finish(await paunchConfig({ nodeDir: flags.nodeDir, run: runProcess, out }));
    });

  paunch
    .command('apply')
    .description('converge one step of the stored plan on this node (remove, run, exec, health waits)')
    .requiredOption('--step <n>', 'the step, 1..5')
    .option(...nodeDirOption)
    .option('--health-timeout <seconds>', 'how long a new container may take to become healthy', '120')
    .exitOverride()
    .action(async (flags: { nodeDir: string; step: string; healthTimeout: string }) => {
      if (!/^[1-5]$/.test(flags.step)) throw new AppError('USAGE', '--step must be 1, 2, 3, 4 or 5');
      if (!/^\d+$/.test(flags.healthTimeout))
        throw new AppError('USAGE', '--health-timeout must be a whole number of seconds');
      const { paunchApply } = await import('../../deploy/paunch.js');
      const { runProcess } = await import('../../process/index.js');
      finish(
        await paunchApply({ nodeDir: flags.nodeDir, run: runProcess, out }, Number(flags.step), {
          healthTimeoutMs: Number(flags.healthTimeout) * 1000,
        }),
      );
    });
}
