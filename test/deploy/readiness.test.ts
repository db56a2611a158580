/**
 * The deploy's readiness checks: what the real definitions declare to wait for (planned from the
 * containers_minimal topology with two computes), and the waiting itself against a stand-in API and
 * a stand-in node connection: ready after a few rounds, a cell mapping made by discover_hosts when a
 * host is missing, and a time-out that names the node, the agent and its container's logs.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDeployInput } from '../../src/deploy/load.js';
import type { ApiSession } from '../../src/deploy/openstack-api.js';
import { planDeploy } from '../../src/deploy/plan.js';
import { mappedHosts, planReadiness, type ReadinessPlan, waitReady } from '../../src/deploy/readiness.js';
import { isAppError } from '../../src/errors.js';
import type { NodeConnection } from '../../src/process/index.js';
import { templatesPath } from '../../src/util/paths.js';
import { MINIMAL_IMAGES } from '../support/minimal-images.js';
import { okResult } from '../support/process-result.js';

const IMAGES = MINIMAL_IMAGES;
const NODES = ['overcloud-controller-0', 'overcloud-novacompute-0', 'overcloud-novacompute-1'];

const listHosts = (hosts: string[]): string =>
  [
    '+-----------+--------------------------------------+-------------------------+',
    '| Cell Name |              Cell UUID               |         Hostname        |',
    '+-----------+--------------------------------------+-------------------------+',
    ...hosts.map((h) => `|   cell1   | 6c1a2b1e-0d5b-4a9e-9d7e-2f4b1c3d5e6f | ${h} |`),
    '+-----------+--------------------------------------+-------------------------+',
  ].join('\n');

/** A Nova/Neutron stand-in whose answers the test changes between rounds. */
function fakeCloud() {
  const state = {
    alive: new Set<string>(), // `${binary}@${host}`
    up: new Set<string>(),
    mapped: new Set<string>(),
    discoverable: new Set<string>(),
    commands: [] as string[],
  };
  const session: ApiSession = {
    async get<T>(type: string, path: string): Promise<T> {
      if (type === 'network' && path === '/v2.0/agents') {
        const agents = [...state.alive].map((k) => {
          const [binary, host] = k.split('@');
          return { binary, host, alive: true };
        });
        return { agents } as T;
      }
      if (type === 'compute' && path === '/os-services?binary=nova-compute')
        return {
          services: [...state.up].map((host) => ({ binary: 'nova-compute', host, state: 'up' })),
        } as T;
      if (type === 'compute' && path === '/os-hypervisors/detail')
        return { hypervisors: [...state.up].map((host) => ({ service: { host } })) } as T;
      throw new Error(`unexpected GET ${type} ${path}`);
    },
  };
  const result = okResult;
  const conn: NodeConnection = {
    node: {
      name: NODES[0] as string,
      role: 'Controller',
      address: '192.0.2.10',
      user: 'root',
      connection: 'ssh',
    },
    async podman(args) {
      state.commands.push(args.join(' '));
      if (args.includes('discover_hosts')) for (const h of state.discoverable) state.mapped.add(h);
      return result(args.includes('list_hosts') ? listHosts([...state.mapped]) : '');
    },
    shell: async () => result(''),
    close: async () => {},
  };
  return { state, session, conn };
}

describe('deploy readiness', () => {
  let dir: string;
  let rp: ReadinessPlan;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcloud-ready-'));
    await writeFile(
      join(dir, 'nodes.yaml'),
      `nodes:\n${NODES.map((n, i) => `  - {name: ${n}, role: ${i === 0 ? 'Controller' : 'Compute'}, address: 192.0.2.${10 + i}}`).join('\n')}\n`,
    );
    await writeFile(
      join(dir, 'env.yaml'),
      `parameter_defaults:\n  ComputeCount: 2\n${IMAGES.map((i) => `  Docker${i}Image: reg.lab:5000/x/${i.toLowerCase()}:1`).join('\n')}\n`,
    );
    const loaded = await loadDeployInput({
      templatesDir: templatesPath(),
      environmentFiles: [
        templatesPath('environments', 'docker.yaml'),
        templatesPath('environments', 'containers-minimal.yaml'),
        join(dir, 'env.yaml'),
      ],
      inventory: join(dir, 'nodes.yaml'),
      passwordsFile: join(dir, 'passwords.yaml'),
      writePasswords: true,
    });
    rp = planReadiness(loaded.input, planDeploy(loaded.input));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('plans every network agent on its node, every compute, Keystone and the nova_api node', () => {
    assert.deepEqual(rp.agents.map((a) => `${a.binary}@${a.node} (${a.container})`).sort(), [
      'neutron-dhcp-agent@overcloud-controller-0 (neutron_dhcp)',
      'neutron-linuxbridge-agent@overcloud-controller-0 (neutron_linuxbridge_agent)',
      'neutron-linuxbridge-agent@overcloud-novacompute-0 (neutron_linuxbridge_agent)',
      'neutron-linuxbridge-agent@overcloud-novacompute-1 (neutron_linuxbridge_agent)',
    ]);
    assert.deepEqual(
      rp.computes.map((c) => `${c.node} (${c.container})`),
      ['overcloud-novacompute-0 (nova_compute)', 'overcloud-novacompute-1 (nova_compute)'],
    );
    assert.deepEqual(rp.cells, { node: 'overcloud-controller-0', container: 'nova_api' });
    assert.equal(rp.keystone?.authUrl, 'http://192.0.2.10:5000/v3');
    assert.ok((rp.keystone?.password.length ?? 0) > 0);
  });

  it('waits until agents are alive, computes up; maps an unmapped host with discover_hosts', async () => {
    const cloud = fakeCloud();
    const lines: string[] = [];
    let round = 0;
    const session: ApiSession = {
      get: async <T>(type: string, path: string): Promise<T> => {
        // Round by round, as a fresh deploy's agents and computes report in.
        if (type === 'network') {
          round++;
          if (round === 2)
            for (const a of rp.agents.filter((x) => x.node === NODES[0]))
              cloud.state.alive.add(`${a.binary}@${a.node}`);
          if (round === 3) for (const a of rp.agents) cloud.state.alive.add(`${a.binary}@${a.node}`);
          if (round === 4) {
            for (const c of rp.computes) cloud.state.up.add(c.node);
            cloud.state.mapped.add(NODES[1] as string); // the compute's own step-5 mapped itself
            cloud.state.discoverable.add(NODES[2] as string);
          }
        }
        return cloud.session.get<T>(type, path);
      },
    };
    await waitReady(rp, {
      cellsNode: cloud.conn,
      out: (l) => lines.push(l),
      timeoutMs: 10_000,
      intervalMs: 1,
      session: async () => session,
    });
    assert.equal(round, 4);
    assert.deepEqual(cloud.state.commands, [
      'exec --user root nova_api nova-manage cell_v2 list_hosts',
      'exec --user root nova_api nova-manage cell_v2 discover_hosts --by-service --verbose',
      'exec --user root nova_api nova-manage cell_v2 list_hosts',
    ]);
    assert.match(
      lines[0] ?? '',
      /^\[ready\] waiting: overcloud-controller-0: neutron-dhcp-agent not alive in Neutron/,
    );
    assert.ok(
      lines.some((l) => /waiting: overcloud-novacompute-0: neutron-linuxbridge-agent not alive/.test(l)),
    );
    assert.ok(
      lines.includes('[ready] mapped to a cell by cell_v2 discover_hosts: overcloud-novacompute-1'),
      lines.join('\n'),
    );
    assert.match(lines.at(-1) ?? '', /^\[ready\] the deployed services are ready to serve \(\d+\.\d s\)$/);
  });

  it('times out naming the node, the agent and where its logs are', async () => {
    const cloud = fakeCloud();
    for (const a of rp.agents.filter((x) => x.node !== 'overcloud-novacompute-1'))
      cloud.state.alive.add(`${a.binary}@${a.node}`);
    const started = Date.now();
    await assert.rejects(
      waitReady(rp, {
        cellsNode: cloud.conn,
        out: () => {},
        timeoutMs: 300,
        intervalMs: 20,
        session: async () => cloud.session,
      }),
      (e: unknown) => {
        assert.ok(isAppError(e));
        assert.equal(e.code, 'DEPLOY_NOT_READY');
        assert.match(
          e.message,
          /not ready after 0 s: overcloud-novacompute-1: neutron-linuxbridge-agent not alive in Neutron/,
        );
        assert.match(e.message, /overcloud-novacompute-0: nova-compute not up in Nova/);
        assert.match(
          e.hint ?? '',
          /overcloud container logs overcloud-novacompute-1 neutron_linuxbridge_agent/,
        );
        assert.match(e.hint ?? '', /overcloud container logs overcloud-novacompute-0 nova_compute/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000, 'the wait is bounded');
  });

  it('an API that does not answer is retried, then reported', async () => {
    await assert.rejects(
      waitReady(rp, {
        out: () => {},
        cellsNode: fakeCloud().conn,
        timeoutMs: 50,
        intervalMs: 10,
        session: async () => {
          throw new Error('connect ECONNREFUSED 192.0.2.10:5000');
        },
      }),
      /the APIs did not answer: connect ECONNREFUSED/,
    );
  });

  it('reads the Hostname column of list_hosts', () => {
    assert.deepEqual([...mappedHosts(listHosts(['a', 'b-1']))], ['a', 'b-1']);
    assert.deepEqual([...mappedHosts('')], []);
  });
});
