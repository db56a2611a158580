/**
 * @module test/deploy/stand-in
 * The busybox stand-in service definitions the deploy engine's tests run against (a copy of the
 * template tree as it was before issue #10 made templates/docker/services real). The engine is
 * tested on small, fast images; the real definitions are tested by test/overcloud.
 */
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

/** standInPath resolves a path under test/deploy/stand-in (same layout as templates/). */
export function standInPath(...parts: string[]): string {
  return join(packageRoot(), 'test', 'deploy', 'stand-in', ...parts);
}

/** standInDeploy is `deploy` of the stand-in templates with docker.yaml and `envFile`, then `more`. */
export function standInDeploy(envFile: string, more: string[]): string[] {
  return [
    'deploy',
    '--templates',
    standInPath(),
    '-e',
    standInPath('environments', 'docker.yaml'),
    '-e',
    envFile,
    ...more,
  ];
}
