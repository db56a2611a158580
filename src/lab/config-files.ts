/**
 * @module lab/config-files
 * The quickstart configuration against the files of this build: the deploy's environments must
 * exist before a lab is made for them, and `--print-config` writes the configuration back out.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { stringify } from 'yaml';
import { AppError } from '../errors.js';
import { templatesPath } from '../util/paths.js';
import { configDocument, type QuickstartConfig } from './config.js';
import { HA_ENVIRONMENT } from './upstream-config.js';

/** checkDeployFiles: every -e file of the config exists (the HA one named as the HA topology). */
export async function checkDeployFiles(config: QuickstartConfig): Promise<void> {
  const templates = config.deploy.templates ?? templatesPath();
  for (const env of config.deploy.environments) {
    const path = isAbsolute(env) ? env : join(templates, env);
    if (existsSync(path)) continue;
    if (env === HA_ENVIRONMENT)
      throw new AppError(
        'QUICKSTART_CONFIG_INVALID',
        `${config.path}: HA topology not available in this build: ${path} does not exist (enable_pacemaker: true, or ${HA_ENVIRONMENT} in deploy.environments, asks for it)`,
        {
          hint: 'deploy without pacemaker (enable_pacemaker: false) until this build ships environments/docker-ha.yaml',
        },
      );
    throw new AppError(
      'QUICKSTART_CONFIG_INVALID',
      `${config.path}: deploy environment ${env}: ${path} does not exist`,
      { hint: 'environments are relative to the templates folder unless absolute' },
    );
  }
}

/** printedConfig is `--print-config`'s output: our format, with what was not applied as comments. */
export function printedConfig(config: QuickstartConfig, nodesPath?: string): string {
  const head =
    config.format === 'tripleo-quickstart'
      ? [
          `# Effective configuration of ${config.path}${nodesPath === undefined ? '' : ` with --nodes ${nodesPath}`} (tripleo-quickstart files), in overcloud's format.`,
          ...(config.warnings ?? []).map((w) => `# warning: ${w}`),
        ]
      : [`# Effective configuration of ${config.path}, every default written out.`];
  return `${head.join('\n')}\n${stringify(configDocument(config))}`;
}
