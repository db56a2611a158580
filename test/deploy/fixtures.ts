/**
 * @module test/deploy/fixtures
 * Inputs for planner and diff tests: the shipped templates with a small two-node topology, loaded
 * through the real loader into a temporary folder.
 */

import type { Loaded } from '../../src/deploy/load.js';
import { loadDeployInput } from '../../src/deploy/load.js';
import type { ObservedContainer } from '../../src/deploy/observed.js';
import type { PlannedContainer } from '../../src/deploy/plan.js';
import { type TmpTree, tmpTree } from '../support/tmp.js';
import { standInPath } from './stand-in.js';

export const INVENTORY = `nodes:
  - {name: overcloud-controller-0, role: Controller, address: 10.0.0.11, user: root}
  - {name: overcloud-compute-0, role: Compute, address: 10.0.0.21, user: root}
`;

/** smallEnv is an environment with a few services per role and every image named. */
export function smallEnv(extra = ''): string {
  return `parameter_defaults:
  ControllerServices:
    - OS::TripleO::Services::Memcached
    - OS::TripleO::Services::Keystone
    - OS::TripleO::Services::GlanceApi
  ComputeServices:
    - OS::TripleO::Services::NovaLibvirt
    - OS::TripleO::Services::NovaCompute
  DockerMemcachedImage: reg.lab:5000/tripleo/memcached:1
  DockerKeystoneImage: reg.lab:5000/tripleo/keystone:1
  DockerGlanceApiImage: reg.lab:5000/tripleo/glance-api:1
  DockerNovaLibvirtImage: reg.lab:5000/tripleo/nova-libvirt:1
  DockerNovaComputeImage: reg.lab:5000/tripleo/nova-compute:1
${extra}`;
}

export interface Fixture {
  tmp: TmpTree;
  load(env: string, opts?: { docker?: boolean; inventory?: string; passwords?: string }): Promise<Loaded>;
}

export async function fixture(): Promise<Fixture> {
  const tmp = await tmpTree({});
  return {
    tmp,
    async load(env, opts = {}) {
      const t = await tmpTree({ 'env.yaml': env, 'inventory.yaml': opts.inventory ?? INVENTORY });
      try {
        return await loadDeployInput({
          templatesDir: standInPath(),
          environmentFiles: [
            ...(opts.docker === false ? [] : [standInPath('environments', 'docker.yaml')]),
            t.path('env.yaml'),
          ],
          inventory: t.path('inventory.yaml'),
          passwordsFile: tmp.path(opts.passwords ?? 'passwords.yaml'),
          writePasswords: true,
        });
      } finally {
        await t.cleanup();
      }
    },
  };
}

/** observedFrom pretends a node runs exactly these planned containers, healthy. */
export function observedFrom(
  containers: PlannedContainer[],
  managedBy: string,
  imageId = 'sha256:aaa',
): ObservedContainer[] {
  return containers
    .filter((c) => c.spec.action === 'run')
    .map((c, i) => ({
      id: `id-${c.name}-${i}`,
      name: c.name,
      image: c.spec.image ?? '',
      imageId,
      state: c.spec.detach ? 'running' : 'exited',
      status: c.spec.detach ? 'Up 1 minute (healthy)' : 'Exited (0) 1 minute ago',
      exitCode: 0,
      startedAt: 1,
      labels: {
        config_id: c.configId,
        container_name: c.name,
        managed_by: managedBy,
        config_data: c.configData,
      },
      health: c.spec.healthcheck ? 'healthy' : undefined,
    }));
}
