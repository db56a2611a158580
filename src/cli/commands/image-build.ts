/**
 * @module cli/commands/image-build
 * `overcloud image build`: flags map to runImageBuild options; `--list` prints the plan instead.
 * kolla-build's spelling (--base, --type, --registry with --push, --threads, image regexes,
 * --list-images, --list-dependencies, --template-override) is accepted too (kolla-flags).
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { DEFAULT_CACHE_DIR } from '../../image-build/defaults.js';
import { type Resolved, resolveKollaFlags } from './kolla-flags.js';

interface BuildFlags {
  include?: string;
  exclude?: string;
  namespace: string;
  prefix?: string;
  tag: string;
  push?: string | boolean;
  parallel?: string;
  list?: boolean;
  all?: boolean;
  recipes?: string;
  catalogue?: string;
  cacheDir: string;
  dryRun?: boolean;
  // kolla-build's
  base?: string;
  type?: string;
  registry?: string;
  threads?: string;
  listImages?: boolean;
  listDependencies?: boolean;
  templateOverride?: string;
  json?: boolean;
}

const err = (line: string): void => {
  process.stderr.write(`overcloud image build: ${line}\n`);
};

/** build resolves both spellings, then lists, plans or builds. */
async function build(regexes: string[], flags: BuildFlags): Promise<void> {
  const r = resolveKollaFlags({ ...flags, regexes });
  const listing = flags.list || flags.listImages || flags.listDependencies;
  if (flags.all && !flags.list) throw new AppError('USAGE', '--all goes with --list');
  for (const n of r.notes) err(n);
  if (listing || flags.dryRun) return plan(flags, r);
  // The builder (registry client, undici, zod, yaml) loads here rather than at every start of the CLI.
  const { runImageBuild } = await import('../../image-build/builder.js');
  const summary = await runImageBuild({
    include: r.include,
    exclude: flags.exclude,
    namespace: flags.namespace,
    prefix: r.prefix,
    tag: flags.tag,
    push: r.push,
    parallel: r.parallel,
    recipesPath: flags.recipes,
    cataloguePath: flags.catalogue,
    cacheDir: flags.cacheDir,
    log: err,
  });
  const count = (s: string): number => summary.images.filter((i) => i.status === s).length;
  for (const img of summary.images) {
    if (img.error !== undefined) err(`${img.name}: ${img.status}: ${img.error}`);
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

/** plan prints what a build would do (--list, kolla's lists, --dry-run) without building. */
async function plan(flags: BuildFlags, r: Resolved): Promise<void> {
  const [{ catalogueNames }, { formatList, selectImages }, { loadRecipes }, lists] = await Promise.all([
    import('../../image-build/builder.js'),
    import('../../image-build/plan.js'),
    import('../../image-build/recipes.js'),
    import('../../image-build/kolla-lists.js'),
  ]);
  const recipes = await loadRecipes(flags.recipes);
  const names = await catalogueNames(flags.catalogue);
  const selected = selectImages(recipes, { include: r.include, exclude: flags.exclude });
  const write = (text: string): void => {
    process.stdout.write(text);
  };
  if (flags.list) write(formatList(recipes, names, { all: flags.all ?? false, prefix: r.prefix, selected }));
  if (flags.listImages) write(lists.listImages(selected));
  if (flags.listDependencies) write(lists.listDependencies(selected));
  if (!flags.dryRun) return;
  const opts = { namespace: flags.namespace, prefix: r.prefix, tag: flags.tag };
  write(`would build ${selected.length} image(s), tagged:\n`);
  for (const n of lists.localNames(selected, names, opts)) write(`  ${n}\n`);
  if (r.push !== undefined) {
    write(`would push to ${r.push} (each name also under its {version}-{release} tag once built):\n`);
    for (const n of lists.pushNames(selected, names, { ...opts, registry: r.push })) write(`  ${n}\n`);
  }
}

/** registerImageBuild adds `build` under `overcloud image`. */
export function registerImageBuild(image: Command): void {
  image
    .command('build')
    .description(
      "build OpenStack service images from Debian's packages (kolla's image tree); kolla-build's flags work too",
    )
    .argument(
      '[regex...]',
      "kolla's image selection: build images whose name matches any regex (plus parents)",
    )
    .option('--include <regex>', 'build only images whose name matches (plus their parents)')
    .option('--exclude <regex>', 'leave out images whose name matches')
    .option('--namespace <ns>', 'image namespace', 'overcloud')
    .option('--prefix <prefix>', 'image name prefix (default debian-binary-, i.e. <base>-<type>-)')
    .option('--tag <tag>', 'image tag (each image is also tagged {version}-{release})', 'latest')
    .option(
      '--push [registry]',
      "push the images to this registry (host:port) after building; kolla's bare --push pushes to --registry",
    )
    .option('--registry <registry>', "kolla's: the registry (host:port) that --push pushes to")
    .option('--parallel <n>', 'images built at once (default 3)')
    .option('--threads <n>', "kolla's name for --parallel")
    .option('--base <distro>', "kolla's image base: debian only (the <base> of the <base>-<type>- prefix)")
    .option('--type <type>', "kolla's install type: binary only (Debian's packages)")
    .option(
      '--template-override <file>',
      "kolla's Jinja2 overrides: TripleO's tripleo_kolla_template_overrides.j2 is accepted (not applied, said why); others are refused",
    )
    .option('--list', 'print the buildable images, their packages and the catalogue entries they serve')
    .option('--all', 'with --list: also the catalogue entries no image can serve, and why')
    .option('--list-images', "kolla's: print the selected images, numbered, in build order")
    .option('--list-dependencies', "kolla's: print the selected images as a tree from the base image")
    .option(
      '--dry-run',
      'print the images a build would make and the names it would tag and push; build nothing',
    )
    .option('--recipes <file>', 'image recipes (default: the shipped templates/images/images.yaml)')
    .option('--catalogue <file>', 'image catalogue (default: the shipped one)')
    .option('--cache-dir <dir>', 'build cache: apt lists, logs, contexts', DEFAULT_CACHE_DIR)
    .option('--json', 'print the summary (counts, each image, the push) as JSON on stdout')
    .exitOverride()
    .action(build);
}
