/**
 * @module image-build/containerfile
 * The Containerfile of one image layer, rendered from its recipe. Pure, so what a layer is made of
 * can be read and tested without building it. Each image is one RUN at most (the build squashes
 * the image's own instructions into one layer).
 */
import type { Recipe } from './recipes.js';
import { accountsScript, KOLLA_GROUP } from './users.js';

/** Where the build mounts the run's apt lists (read-only; never part of a layer). */
export const APT_LISTS_MOUNT = '/var/lib/overcloud-apt-lists';

export interface ContainerfileInput {
  recipe: Recipe;
  /** image ID (or name) of the parent, or of the imported bootstrap rootfs for the root image */
  from: string;
  labels: Readonly<Record<string, string>>;
  /** the image's run user (KOLLA_USER), inherited when the recipe has none */
  user: string;
  hasFiles: boolean;
  hygiene: Hygiene;
  isRoot: boolean;
}

/** What every layer deletes (globs) or empties (files) after its packages are in. */
export interface Hygiene {
  cleanup: readonly string[];
  truncate: readonly string[];
}

/** installScript is the RUN body: install, delete build-time state, clean apt's leftovers. */
export function installScript(recipe: Recipe, hygiene: Hygiene): string | undefined {
  const steps: string[] = [];
  if (recipe.packages.length > 0) {
    steps.push(
      [
        'apt-get -q -y',
        `-o Dir::State::Lists=${APT_LISTS_MOUNT}`,
        '-o Debug::NoLocking=1',
        '-o Dpkg::Use-Pty=0',
        '-o Dpkg::Options::=--force-confold',
        // no fsync per file: a failed build is thrown away anyway, and this halves dpkg's time
        '-o Dpkg::Options::=--force-unsafe-io',
        'install --no-install-recommends',
        ...recipe.packages,
      ].join(' '),
    );
  }
  // Globs stay unquoted so the shell expands them; recipes reject quotes and newlines in paths.
  const paths = [...recipe.remove, ...hygiene.cleanup];
  if (steps.length === 0 && recipe.remove.length === 0) return undefined;
  steps.push(`rm -rf ${paths.join(' ')}`);
  // Emptied, not deleted: tools expect these files to exist (systemd's machine-id contract).
  for (const f of hygiene.truncate) steps.push(`if [ -s ${f} ]; then : > ${f}; fi`);
  return `set -eu; export DEBIAN_FRONTEND=noninteractive; ${steps.join('; ')}`;
}

/**
 * rootSetupScript is the root image's own RUN: kolla's fixed service accounts (before any package
 * could create them with other ids), the config.json mount point and kolla's shared log folder.
 */
export function rootSetupScript(): string {
  return [
    'set -eu',
    accountsScript(),
    'mkdir -p /var/lib/kolla/config_files /var/log/kolla',
    `chown root:${KOLLA_GROUP} /var/log/kolla`,
    'chmod 2775 /var/log/kolla',
  ].join('; ');
}

/** renderContainerfile returns the Containerfile text for one image. */
export function renderContainerfile(input: ContainerfileInput): string {
  const lines = [`FROM ${input.from}`];
  const labels = Object.entries(input.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length > 0) {
    lines.push(
      `LABEL ${labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' \\\n      ')}`,
    );
  }
  if (input.isRoot) {
    lines.push(
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 ' +
        'KOLLA_BASE_DISTRO=debian KOLLA_INSTALL_TYPE=binary',
    );
  }
  lines.push(`ENV KOLLA_USER=${input.user}`);
  if (input.hasFiles) lines.push('COPY rootfs/ /');
  const script = installScript(input.recipe, input.hygiene);
  if (input.isRoot) {
    lines.push(`RUN ${rootSetupScript()}`);
  }
  if (script !== undefined) lines.push(`RUN ${script}`);
  if (input.isRoot) {
    lines.push('ENTRYPOINT ["dumb-init", "--single-child", "--"]', 'CMD ["kolla_start"]');
  }
  return `${lines.join('\n')}\n`;
}
