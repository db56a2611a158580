/**
 * @module cli/commands/image-build
 * `overcloud image build`: flags map to runImageBuild options; `--list` prints the plan instead.
 */
import type { Command } from 'commander';
import { DEFAULT_CACHE_DIR } from '../../build/defaults.js';
import { AppError } from '../../errors.js';

interface BuildFlags {
  include?: string;
  exclude?: string;
  namespace: string;
  prefix: string;
  tag: string;
  push?: string;
  parallel: string;
  list?: boolean;
  all?: boolean;
  recipes?: string;
  catalogue?: string;
  cacheDir: string;
  json?: boolean;
}

async function build(flags: BuildFlags): Promise<void> {
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new AppError('USAGE', '--parallel must be a positive integer');
  if (flags.all && !flags.list) throw new AppError('USAGE', '--all goes with --list');
  // The builder (registry client, undici, zod, yaml) loads here rather than at every start of the CLI.
  const [{ catalogueNames, runImageBuild }, { formatList, selectImages }, { loadRecipes }] =
    await Promise.all([
      import('../../build/builder.js'),
      import('../../build/plan.js'),
      import('../../build/recipes.js'),
    ]);
  if (flags.list) {
    const recipes = await loadRecipes(flags.recipes);
    const names = await catalogueNames(flags.catalogue);
    const selected = selectImages(recipes, { include: flags.include, exclude: flags.exclude });
    process.stdout.write(
      formatList(recipes, names, { all: flags.all ?? false, prefix: flags.prefix, selected }),
    );
    return;
  }
  const summary = await runImageBuild({
    include: flags.include,
    exclude: flags.exclude,
    namespace: flags.namespace,
    prefix: flags.prefix,
    tag: flags.tag,
    push: flags.push,
    parallel,
    recipesPath: flags.recipes,
    cataloguePath: flags.catalogue,
    cacheDir: flags.cacheDir,
    log: (line) => process.stderr.write(`overcloud image build: ${line}\n`),
  });
  const count = (s: string): number => summary.images.filter((i) => i.status === s).length;
  for (const img of summary.images) {
    if (img.error !== undefined)
      process.stderr.write(`overcloud image build: ${img.name}: ${img.status}: ${img.error}\n`);
  }
  const line = `built ${count('built')}, unchanged ${count('cached')}, failed ${count('failed')}, skipped ${count('skipped')} in ${summary.seconds.toFixed(1)} s`;
  if (flags.json) {
    const counts = {
      built: count('built'),
      unchanged: count('cached'),
      failed: count('failed'),
      skipped: count('skipped'),
    };
    process.stdout.write(`${JSON.stringify({ ...counts, ...summary }, null, 2)}\n`);
  } else process.stdout.write(`${line}\n`);
  if (count('failed') + count('skipped') > 0) {
    throw new AppError(
      'IMAGE_BUILD_FAILED',
      `${count('failed')} image(s) failed and ${count('skipped')} were skipped`,
    );
  }
}

/** registerImageBuild adds `build` under `overcloud image`. */
export function registerImageBuild(image: Command): void {
  image
    .command('build')
    .description("build OpenStack service images from Debian's packages (kolla's image tree)")
    .option('--include <regex>', 'build only images whose name matches (plus their parents)')
    .option('--exclude <regex>', 'leave out images whose name matches')
    .option('--namespace <ns>', 'image namespace', 'overcloud')
    .option('--prefix <prefix>', 'image name prefix', 'debian-binary-')
    .option('--tag <tag>', 'image tag (each image is also tagged {version}-{release})', 'latest')
    .option('--push <registry>', 'push the images to this registry (host:port) after building')
    .option('--parallel <n>', 'images built at once', '3')
    .option('--list', 'print the buildable images, their packages and the catalogue entries they serve')
    .option('--all', 'with --list: also the catalogue entries no image can serve, and why')
    .option('--recipes <file>', 'image recipes (default: the shipped templates/images/images.yaml)')
    .option('--catalogue <file>', 'image catalogue (default: the shipped one)')
    .option('--cache-dir <dir>', 'build cache: apt lists, logs, contexts', DEFAULT_CACHE_DIR)
    .option('--json', 'print the summary (counts, each image, the push) as JSON on stdout')
    .exitOverride()
    .action(build);
}
