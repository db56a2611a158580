/**
 * @module cli/commands/deploy
 * `overcloud deploy` and `overcloud debug print-cmd`. Flags map to deploy/run options; the work is in
 * src/deploy.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { placeStack } from '../stack.js';

// The deploy engine (Heat model, zod, yaml) loads only when a command runs, not at every start of the CLI.
const deployModules = async () => {
  const [processes, ops, record, run, paths, overcloudrc, reportDoc] = await Promise.all([
    import('../../process/index.js'),
    import('../../deploy/ops.js'),
    import('../../deploy/record.js'),
    import('../../deploy/run.js'),
    import('../../util/paths.js'),
    import('../../validate/overcloudrc.js'),
    import('../../deploy/report-doc.js'),
  ]);
  return { ...processes, ...ops, ...record, ...run, ...paths, ...overcloudrc, ...reportDoc };
};

interface DeployFlags {
  templates?: string | boolean;
  environmentFile: string[];
  rolesFile?: string;
  inventory?: string;
  stack: string;
  stateDir?: string;
  dryRun?: boolean;
  healthTimeout: string;
  readyTimeout: string;
  pull: string;
  configDownload?: boolean;
  configDownloadOnly?: boolean;
  outputDir?: string;
  nodeCommand?: string;
  json?: boolean;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];
const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
/** With --json, stdout holds the JSON document only: the progress lines go to stderr. */
const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** registerDeploy adds `deploy` and `debug print-cmd` to the program. */
export function registerDeploy(program: Command): void {
  program
    .command('deploy')
    .description('deploy the containerized overcloud onto the inventory nodes, in steps 1..5')
    .option('--templates [dir]', 'template folder (default: the shipped templates)')
    .option('-e, --environment-file <file>', 'Heat environment file, in order; repeatable', collect, [])
    .option('-r, --roles-file <file>', 'roles file (default: <templates>/roles_data.yaml)')
    .option('--inventory <file|localhost>', 'nodes: an inventory YAML file, or localhost (default)')
    .option('--stack <name>', 'stack name (passwords and the last deploy are kept per stack)', 'overcloud')
    .option('--state-dir <dir>', 'where the stack keeps passwords.yaml and last-deploy.json')
    .option('--dry-run', 'print per node and step what would be created, replaced or removed; change nothing')
    .option(
      '--json',
      'print the plan and its outcome (per node and step: the actions, why) as JSON on stdout; progress goes to stderr',
    )
    .option('--health-timeout <seconds>', 'how long a new container may take to become healthy', '120')
    .option(
      '--ready-timeout <seconds>',
      'after the last step, how long to wait for network agents alive and computes mapped to a cell',
      '300',
    )
    .option(
      '--pull <policy>',
      'missing: pull absent images (default); always: also re-pull present tags',
      'missing',
    )
    .option(
      '--config-download',
      'deploy through Ansible: write the config-download folder and run its playbook (steps in lockstep, `overcloud paunch` on each node)',
    )
    .option('--config-download-only', 'write the config-download folder; do not run it')
    .option('--output-dir <dir>', 'the config-download folder (default: <state dir>/config-download)')
    .option(
      '--node-command <cmd>',
      'how a node starts overcloud, split on spaces (default: this installation; nodes must share its files)',
    )
    .exitOverride()
    .action(async (flags: DeployFlags) => {
      if (!/^\d+$/.test(flags.healthTimeout))
        throw new AppError('USAGE', '--health-timeout must be a whole number of seconds');
      if (!/^\d+$/.test(flags.readyTimeout))
        throw new AppError('USAGE', '--ready-timeout must be a whole number of seconds');
      if (flags.pull !== 'missing' && flags.pull !== 'always')
        throw new AppError('USAGE', '--pull must be missing or always');
      const ansible = flags.configDownload === true || flags.configDownloadOnly === true;
      if (ansible && flags.dryRun)
        throw new AppError('USAGE', "--dry-run goes without --config-download (it is the SSH engine's diff)");
      if (!ansible && (flags.outputDir !== undefined || flags.nodeCommand !== undefined))
        throw new AppError('USAGE', '--output-dir and --node-command go with --config-download');
      const { deployReportDoc, runDeploy, runProcess, stateDir, templatesPath, writeDeployOutputs } =
        await deployModules();
      const say = flags.json ? err : out;
      const result = await runDeploy(
        {
          templatesDir: typeof flags.templates === 'string' ? flags.templates : templatesPath(),
          environmentFiles: flags.environmentFile,
          rolesFile: flags.rolesFile,
          inventory: flags.inventory,
          stack: flags.stack,
          stateDir: flags.stateDir,
          dryRun: flags.dryRun === true,
          healthTimeoutMs: Number(flags.healthTimeout) * 1000,
          readyTimeoutMs: Number(flags.readyTimeout) * 1000,
          pull: flags.pull,
          concurrency: 16,
          out: say,
          warn: (m) => process.stderr.write(`overcloud: warning: ${m}\n`),
          driver: ansible ? 'ansible' : 'ssh',
          ...(flags.outputDir === undefined ? {} : { outputDir: flags.outputDir }),
          ...(flags.nodeCommand === undefined
            ? {}
            : { nodeCommand: flags.nodeCommand.split(/\s+/).filter(Boolean) }),
          configDownloadOnly: flags.configDownloadOnly === true,
        },
        runProcess,
      );
      // overcloudrc and services.json next to the passwords: the operator's and validate's inputs.
      if (flags.dryRun !== true) {
        const dir = stateDir(flags.stack, flags.stateDir);
        for (const f of await writeDeployOutputs(dir, result.plan, flags.stack)) say(`[wrote] ${f}`);
      }
      if (flags.json) {
        const doc = deployReportDoc(result.plan, result.report, {
          stack: flags.stack,
          dryRun: flags.dryRun === true,
          driver: ansible ? 'ansible' : 'ssh',
          durationMs: result.durationMs,
        });
        out(JSON.stringify(doc, null, 2));
      }
    });

  const debug = program.command('debug').description('debug deployed containers').exitOverride();
  debug
    .command('print-cmd <node> <name>')
    .description('print the exact podman command that created a container (as paunch debug did)')
    .option('--stack <name>', 'stack name', 'overcloud')
    .option('--state-dir <dir>', 'the stack state folder')
    .exitOverride()
    .action(async (node: string, name: string, flags: { stack: string; stateDir?: string }) => {
      const place = await placeStack(flags);
      if (!place.here) {
        process.exitCode = place.exitCode;
        return;
      }
      const { connectAll, findConnection, loadRecord, printCmd, runProcess } = await deployModules();
      const record = await loadRecord(place.stateDir);
      const conns = await connectAll(
        record.inventory.nodes.filter((n) => n.name === node),
        record.inventory.ssh,
        runProcess,
      );
      try {
        out(await printCmd(findConnection(conns, node), name));
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
    });
}
