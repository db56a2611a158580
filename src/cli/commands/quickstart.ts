/**
 * @module cli/commands/quickstart
 * `overcloud quickstart --config FILE [--teardown [--purge]] [--verbose] [HOST]`: the seed's whole
 * workflow on a lab of network namespaces (src/quickstart), or its removal; on this machine under
 * the lab's lock, or on another HOST over ssh (src/quickstart/remote).
 */
import { homedir } from 'node:os';
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import type { QuickstartConfig } from '../../lab/config.js';
import { DEFAULT_REMOTE_DIR } from '../../quickstart/defaults.js';
// Small (node:os and errors only): --ssh-option's parser needs it while the command line is parsed.
import { checkSshOption, isLocalHost, parseHost } from '../../quickstart/remote-host.js';

interface QuickstartFlags {
  config: string;
  teardown?: boolean;
  purge?: boolean;
  verbose?: boolean;
  json?: boolean;
  sshOption?: string[];
  remoteDir?: string;
  localDir?: string;
  printConfig?: boolean;
  nodes?: string;
}

type Out = (line: string) => void;

/** local runs the quickstart (or its teardown) on this machine, holding the lab's lock throughout. */
async function local(config: QuickstartConfig, flags: QuickstartFlags, out: Out, err: Out): Promise<void> {
  // The lab and the quickstart (zod, yaml, ssh and tar helpers) are imported when the command runs,
  // as is lab/config below, so that every other command starts without them.
  const [
    { labPaths },
    { acquireLabLock },
    { loadTopology, runQuickstart, summaryLines, teardown },
    { writeFileAtomic },
  ] = await Promise.all([
    import('../../lab/index.js'),
    import('../../quickstart/lock.js'),
    import('../../quickstart/run.js'),
    import('../../util/atomic.js'),
  ]);
  const lock = acquireLabLock(config, flags.teardown ? 'teardown' : 'run');
  try {
    const opts = { verbose: flags.verbose === true, out, err };
    if (flags.teardown) {
      const removed = await teardown(config, flags.purge === true, opts);
      out(
        removed.length === 0 ? 'teardown: nothing to remove' : `teardown: removed ${removed.length} item(s)`,
      );
      if (flags.json) process.stdout.write(`${JSON.stringify({ removed }, null, 2)}\n`);
      return;
    }
    const report = await runQuickstart(config, opts);
    // Beside the lab's other state: a remote run hands it back to the machine that started it.
    await writeFileAtomic(
      `${labPaths(config).dir}/quickstart-report.json`,
      `${JSON.stringify(report, null, 2)}\n`,
    );
    const { topo } = await loadTopology(config);
    for (const l of summaryLines(config, report, topo)) out(l);
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    lock.release();
  }
}

/** registerQuickstart adds `quickstart` to the program. */
export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('deploy the containerized overcloud on simulated nodes (network namespaces), end to end')
    .argument(
      '[host]',
      "where (TripleO's VIRTHOST): this machine by default, else [user@]host[:port] over ssh as root",
    )
    .requiredOption('--config <file>', 'quickstart configuration (e.g. config/containers_minimal.yml)')
    .option('--teardown', 'remove everything the quickstart created (built images stay)')
    .option('--purge', 'with --teardown: also remove the built images and the upstream registry store')
    .option('-v, --verbose', 'show the output of every stage')
    .option('--json', 'print the report as JSON on stdout (progress goes to stderr)')
    .option(
      '--ssh-option <Key=value>',
      'remote HOST: an ssh -o option, e.g. IdentityFile=~/.ssh/virthost (repeatable)',
      (v: string, all: string[] | undefined) => [...(all ?? []), checkSshOption(v)],
    )
    .option(
      '--remote-dir <dir>',
      `remote HOST: the quickstart's folder there (default $QUICKSTART_REMOTE_DIR or ${DEFAULT_REMOTE_DIR})`,
    )
    .option('--local-dir <dir>', 'remote HOST: where the results are copied (default ~/.quickstart/HOST/LAB)')
    .option(
      '-N, --nodes <file>',
      "tripleo-quickstart's nodes file (config/nodes/*.yml) for a tripleo-quickstart config; the config's keys win",
    )
    .option(
      '--print-config',
      'print the effective configuration in our format (what a tripleo-quickstart file maps to) and exit',
    )
    .exitOverride()
    .action(async (host: string | undefined, flags: QuickstartFlags) => {
      if (flags.purge && !flags.teardown) throw new AppError('USAGE', '--purge goes with --teardown');
      const remote = !isLocalHost(host);
      if (!remote && (flags.sshOption || flags.remoteDir || flags.localDir))
        throw new AppError('USAGE', '--ssh-option, --remote-dir and --local-dir go with a remote HOST');
      if (remote) parseHost(host as string); // bad HOST: a usage error before the config is read
      if (remote && flags.nodes && !flags.printConfig)
        throw new AppError('USAGE', '--nodes goes with this machine only (HOST gets the config file alone)', {
          hint: 'copy overcloud_nodes from the nodes file into the config, or see --print-config',
        });
      const [{ loadConfig }, { checkDeployFiles, printedConfig }] = await Promise.all([
        import('../../lab/config.js'),
        import('../../lab/config-files.js'),
      ]);
      // The seed writes `--config=~/.quickstart/...`: no shell expands a ~ after `=`.
      const home = (p: string): string => p.replace(/^~(?=\/|$)/, homedir());
      const config = await loadConfig(
        home(flags.config),
        process.cwd(),
        flags.nodes === undefined ? undefined : home(flags.nodes),
      );
      if (flags.printConfig) {
        process.stdout.write(printedConfig(config, flags.nodes));
        return;
      }
      const out = (l: string): void => {
        (flags.json ? process.stderr : process.stdout).write(`${l}\n`);
      };
      const err = (l: string): void => {
        process.stderr.write(`${l}\n`);
      };
      for (const w of config.warnings ?? []) err(`quickstart: warning: ${w}`);
      // Before the lab exists (and before anything is shipped to HOST, which gets this build): a
      // missing environment, such as the HA one, is an error now rather than at the prepare stage.
      if (!flags.teardown) await checkDeployFiles(config);
      if (!remote) return local(config, flags, out, err);
      const remoteDir = flags.remoteDir ?? (process.env.QUICKSTART_REMOTE_DIR || DEFAULT_REMOTE_DIR);
      if (!remoteDir.startsWith('/'))
        throw new AppError('USAGE', `--remote-dir ${remoteDir}: must be an absolute path on HOST`);
      const { runRemote } = await import('../../quickstart/remote.js');
      const r = await runRemote(config, {
        host: host as string,
        sshOptions: flags.sshOption ?? [],
        remoteDir,
        ...(flags.localDir ? { localDir: flags.localDir } : {}),
        teardown: flags.teardown === true,
        purge: flags.purge === true,
        verbose: flags.verbose === true,
        json: flags.json === true,
        out,
      });
      if (r.code !== 0)
        throw new AppError(
          'HOST_COMMAND_FAILED',
          `the quickstart on ${host} ended with exit status ${r.code}`,
          {
            exitStatus: r.code,
            hint: `its messages are above and in ${r.localDir}/summary.txt; stage logs are on ${host} under ${config.lab.dir}/logs`,
          },
        );
    });
}
