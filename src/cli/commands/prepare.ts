/**
 * @module cli/commands/prepare
 * `overcloud container image prepare`: python-tripleoclient's flags (Pike names, their Queens renames
 * as aliases), one library call, then the outputs written atomically.
 */
import { copyFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { AppError } from '../../errors.js';
import type { Decision } from '../../prepare/prepare.js';
import { prepareDeps } from './registry-access.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface PrepareFlags {
  templateFile?: string;
  pullSource?: string;
  pushDestination?: string;
  tag?: string;
  tagFromLabel?: string;
  namespace?: string;
  prefix?: string;
  suffix?: string;
  set: string[];
  exclude: string[];
  include: string[];
  outputImagesFile?: string;
  imagesFile?: string;
  outputEnvFile?: string;
  envFile?: string;
  environmentFile: string[];
  serviceEnvironmentFile: string[];
  environmentDirectory: string[];
  rolesFile?: string;
  format: string;
  explain?: boolean;
  quiet?: boolean;
  insecureDetection: boolean;
  insecureRegistry: string[];
  authfile?: string;
  tlsVerify: boolean;
}

/** registerPrepare adds `container image prepare`. */
export function registerPrepare(image: Command): void {
  image
    .command('prepare')
    .description('Generate the Heat environment of container image parameters and the images file for upload')
    .option(
      '--template-file <file>',
      'image catalogue (YAML, container_images_template); default: the shipped Pike+Queens catalogue',
    )
    .option('--namespace <namespace>', 'registry/namespace of the images (default docker.io/tripleoupstream)')
    .option('--prefix <prefix>', 'image name prefix (default centos-binary-)')
    .option('--suffix <suffix>', 'image name suffix (default none)')
    .option('--tag <tag>', 'image tag (default latest); with --tag-from-label, the tag to read labels from')
    .option(
      '--tag-from-label <label>',
      'take each tag from the image labels: a label name or a template like {version}-{release}',
    )
    .option('--set <variable=value>', 'set a catalogue template variable (repeatable)', collect, [])
    .option('--exclude <regex>', 'drop images whose full name matches (repeatable)', collect, [])
    .option(
      '--include <regex>',
      'keep only images whose full name matches (repeatable; --exclude is then ignored)',
      collect,
      [],
    )
    .option('--push-destination <host:port>', 'registry to upload to; the env file then points at it')
    .option(
      '--pull-source <location>',
      'registry to pull from, put in front of each image name (deprecated in TripleO)',
    )
    .option('--output-images-file <file>', 'write the images file for `container image upload`')
    .addOption(new Option('--images-file <file>', 'Pike name of --output-images-file'))
    .option('--output-env-file <file>', 'write the Heat environment with the image parameters')
    .addOption(new Option('--env-file <file>', 'Pike name of --output-env-file'))
    .option(
      '-e, --environment-file <file>',
      'environment file of the deployment, for the service filter (repeatable)',
      collect,
      [],
    )
    .addOption(
      new Option('--service-environment-file <file>', 'Pike name of --environment-file')
        .argParser(collect)
        .default([]),
    )
    .option(
      '--environment-directory <dir>',
      'directory of environment files, read before the -e files (repeatable; default ~/.tripleo/environments)',
      collect,
      [],
    )
    .option('-r, --roles-file <file>', 'roles data (default: the shipped Pike roles_data.yaml)')
    .addOption(
      new Option('-f, --format <format>', 'format of the images list on stdout')
        .choices(['yaml', 'json'])
        .default('yaml'),
    )
    .option('--explain', 'print, for every catalogue image, why it was kept or dropped (to stderr)')
    .option('-q, --quiet', 'do not print the images list on stdout')
    .option(
      '--insecure-registry <host:port>',
      'list this registry in DockerInsecureRegistryAddress (repeatable)',
      collect,
      [],
    )
    .option('--no-insecure-detection', 'do not probe registries to fill DockerInsecureRegistryAddress')
    .option('--authfile <file>', 'registry credentials for --tag-from-label (containers auth.json format)')
    .option('--no-tls-verify', 'for --tag-from-label: do not verify registry certificates')
    .action(async (flags: PrepareFlags) => {
      await prepareAction(flags, image);
    });
}

async function prepareAction(flags: PrepareFlags, image: Command): Promise<void> {
  const outputImagesFile = pick(
    flags.outputImagesFile,
    flags.imagesFile,
    '--output-images-file',
    '--images-file',
  );
  const outputEnvFile = pick(flags.outputEnvFile, flags.envFile, '--output-env-file', '--env-file');
  const dirs = [join(homedir(), '.tripleo', 'environments'), ...flags.environmentDirectory];
  if (process.env.TRIPLEO_ENVIRONMENT_DIRECTORY) dirs.push(process.env.TRIPLEO_ENVIRONMENT_DIRECTORY);
  const deps = prepareDeps({
    authfile: flags.authfile,
    insecure: flags.insecureRegistry,
    tlsVerify: flags.tlsVerify,
  });
  // Loaded here, not at start-up: every other command would pay for the Heat model and zod.
  const [{ runPrepare }, { writeFileAtomic }] = await Promise.all([
    import('../../prepare/prepare-run.js'),
    import('../../util/atomic.js'),
  ]);
  const result = await runPrepare(
    {
      namespace: flags.namespace,
      prefix: flags.prefix,
      suffix: flags.suffix,
      tag: flags.tag,
      set: flags.set,
      includes: flags.include,
      excludes: flags.exclude,
      pushDestination: flags.pushDestination,
      pullSource: flags.pullSource,
      environmentFiles: [...flags.serviceEnvironmentFile, ...flags.environmentFile],
      environmentDirectories: dirs,
      rolesFile: flags.rolesFile,
      templateFile: flags.templateFile,
      tagFromLabel: flags.tagFromLabel,
      detectInsecure: flags.insecureDetection,
      insecureRegistries: flags.insecureRegistry,
      outputEnvFile,
      outputImagesFile,
      format: flags.format === 'json' ? 'json' : 'yaml',
      commandLine:
        `${image.parent?.parent?.name() ?? 'overcloud'} container image prepare ${process.argv.slice(5).join(' ')}`.trim(),
    },
    deps,
  ).finally(() => deps.close());
  if (flags.explain) process.stderr.write(explain(result.plan.decisions));
  // Everything is computed; only now touch the filesystem, one atomic rename per file.
  if (outputImagesFile) await writeFileAtomic(outputImagesFile, result.imagesText);
  if (outputEnvFile && result.envText !== undefined) {
    await keepBackup(outputEnvFile);
    await writeFileAtomic(outputEnvFile, result.envText);
  }
  if (!flags.quiet) process.stdout.write(result.imagesText);
}

function pick(
  current: string | undefined,
  old: string | undefined,
  name: string,
  oldName: string,
): string | undefined {
  if (current !== undefined && old !== undefined && current !== old) {
    throw new AppError(
      'USAGE',
      `${name} and its older name ${oldName} were both given, with different files`,
    );
  }
  return current ?? old;
}

/** keepBackup copies an existing env file to FILE.backup before it is replaced (as Stein did). */
async function keepBackup(path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    return;
  }
  await copyFile(path, `${path}.backup`);
}

function explain(decisions: Decision[]): string {
  const width = Math.max(0, ...decisions.map((d) => d.imagename.length));
  const kept = decisions.filter((d) => d.kept).length;
  const lines = decisions.map(
    (d) => `${d.kept ? 'kept   ' : 'dropped'}  ${d.imagename.padEnd(width)}  ${d.reason}`,
  );
  return `${lines.join('\n')}\n${kept} of ${decisions.length} images kept\n`;
}
