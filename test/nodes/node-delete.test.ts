/**
 * `overcloud node delete`: the pure plan (unknown names, control-plane refusal, the last node), the
 * executor's order against a recording cloud and node (busy computes refused before any change;
 * disable, stop containers, then delete the compute service and agents), the record it leaves, and
 * the next deploy's inventory without the removed node.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDeployInput } from '../../src/deploy/load.js';
import { loadRemoved, saveRemoved } from '../../src/deploy/record.js';
import { AppError } from '../../src/errors.js';
import { type CloudClient, executeNodeDelete } from '../../src/nodes/execute.js';
import { type DeletePlan, planNodeDelete } from '../../src/nodes/plan.js';
import type { InventoryNode, NodeConnection } from '../../src/process/index.js';
import { templatesPath } from '../../src/util/paths.js';
import { okResult } from '../support/process-result.js';

const node = (name: string, role: string): InventoryNode => ({
  name,
  role,
  address: '192.0.2.1',
  user: 'root',
  connection: 'ssh',
});
const NODES = [
  node('overcloud-controller-0', 'Controller'),
  node('overcloud-novacompute-0', 'Compute'),
  node('overcloud-novacompute-1', 'Compute'),
];
const SERVICES = {
  'OS::TripleO::Services::Keystone': ['overcloud-controller-0'],
  'OS::TripleO::Services::MySQL': ['overcloud-controller-0'],
  'OS::TripleO::Services::NovaCompute': ['overcloud-novacompute-0', 'overcloud-novacompute-1'],
  'OS::TripleO::Services::ComputeNeutronLinuxbridgeAgent': [
    'overcloud-novacompute-0',
    'overcloud-novacompute-1',
  ],
};
const request = (names: string[], allowController = false) => ({
  stack: 'overcloud',
  names,
  nodes: NODES,
  services: SERVICES,
  allowController,
});
const code = (e: unknown): string => (e instanceof AppError ? e.code : String(e));

describe('node delete: plan', () => {
  it('takes a compute node with its nova-compute and agents', () => {
    const plan = planNodeDelete(request(['overcloud-novacompute-1']));
    assert.deepEqual(
      plan.deletions.map((d) => [d.node.name, d.compute, d.networkAgents, d.controlPlane]),
      [['overcloud-novacompute-1', true, true, []]],
    );
    assert.deepEqual(plan.remaining, ['overcloud-controller-0', 'overcloud-novacompute-0']);
  });
  it('names an unknown node and lists the stack nodes', () => {
    assert.throws(
      () => planNodeDelete(request(['overcloud-novacompute-7'])),
      (e) => code(e) === 'USAGE' && /novacompute-7 not in stack overcloud.*controller-0/.test(String(e)),
    );
  });
  it('refuses a controller unless told explicitly', () => {
    assert.throws(
      () => planNodeDelete(request(['overcloud-controller-0'])),
      (e) => code(e) === 'NODE_DELETE_REFUSED' && /controller-0 runs Keystone, MySQL/.test(String(e)),
    );
    const plan = planNodeDelete(request(['overcloud-controller-0'], true));
    assert.deepEqual(plan.deletions[0]?.controlPlane, ['Keystone', 'MySQL']);
  });
  it('refuses to remove every node', () => {
    assert.throws(
      () =>
        planNodeDelete(
          request(
            NODES.map((n) => n.name),
            true,
          ),
        ),
      (e) => code(e) === 'NODE_DELETE_REFUSED',
    );
  });
});

/** A cloud that answers from tables and records every call. */
function recordingCloud(servers: Record<string, string[]>, calls: string[]): CloudClient {
  return {
    run: async (args) => {
      calls.push(`cloud ${args.join(' ')}`);
      return '';
    },
    json: async <T>(args: string[]): Promise<T> => {
      calls.push(`cloud ${args.join(' ')}`);
      const host = args[args.indexOf('--host') + 1] ?? '';
      if (args[0] === 'server') return (servers[host] ?? []).map((n) => ({ ID: `id-${n}`, Name: n })) as T;
      if (args[0] === 'compute') return [{ ID: `svc-${host}` }] as T;
      return [{ ID: `agent-${host}` }] as T;
    },
  };
}

function recordingNode(n: InventoryNode, calls: string[]): NodeConnection {
  const ok = okResult;
  return {
    node: n,
    podman: async (args) => {
      calls.push(`${n.name} podman ${args.join(' ')}`);
      return ok('');
    },
    shell: async (script) => {
      calls.push(`${n.name} shell ${script.includes('podman rm -f') ? 'remove managed containers' : script}`);
      return ok('abc\ndef\n2\n');
    },
    close: async () => {},
  };
}

describe('node delete: execute', () => {
  const plan: DeletePlan = planNodeDelete(request(['overcloud-novacompute-1']));
  it('refuses while servers run there, before changing anything', async () => {
    const calls: string[] = [];
    await assert.rejects(
      executeNodeDelete(
        plan,
        recordingCloud({ 'overcloud-novacompute-1': ['web-1'] }, calls),
        async (d) => recordingNode(d.node, calls),
        { force: false, out: () => {} },
      ),
      (e) => code(e) === 'NODE_DELETE_REFUSED' && /web-1 \(id-web-1\)/.test(String(e)),
    );
    assert.deepEqual(calls, ['cloud server list --all-projects --host overcloud-novacompute-1']);
  });
  it('disables, stops the containers, then deletes the service and agents (in that order)', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    await executeNodeDelete(
      plan,
      recordingCloud({ 'overcloud-novacompute-1': ['web-1'] }, calls),
      async (d) => recordingNode(d.node, calls),
      { force: true, out: (l) => lines.push(l) },
    );
    assert.deepEqual(calls, [
      'cloud server list --all-projects --host overcloud-novacompute-1',
      'cloud compute service set --disable --disable-reason overcloud node delete overcloud-novacompute-1 nova-compute',
      'overcloud-novacompute-1 shell remove managed containers',
      'cloud compute service list --service nova-compute --host overcloud-novacompute-1',
      'cloud compute service delete svc-overcloud-novacompute-1',
      'cloud network agent list --host overcloud-novacompute-1',
      'cloud network agent delete agent-overcloud-novacompute-1',
    ]);
    assert.ok(lines.some((l) => /removed 2 container/.test(l)));
  });
});

describe('node delete: the next deploy leaves the node out', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcloud-node-delete-'));
    await writeFile(
      join(dir, 'nodes.yaml'),
      `nodes:\n${NODES.map((n) => `  - {name: ${n.name}, role: ${n.role}, address: 192.0.2.1${NODES.indexOf(n)}}`).join('\n')}\n`,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));
  it('keeps a removal list and the deploy input lacks the removed node', async () => {
    await saveRemoved(dir, [
      { name: 'overcloud-novacompute-1', role: 'Compute', removedAt: '2026-12-04T00:00:00Z' },
    ]);
    await saveRemoved(dir, [
      { name: 'overcloud-novacompute-1', role: 'Compute', removedAt: '2026-12-05T00:00:00Z' },
    ]);
    const removed = await loadRemoved(dir);
    assert.deepEqual(
      removed.map((r) => [r.name, r.removedAt]),
      [['overcloud-novacompute-1', '2026-12-05T00:00:00Z']],
    );
    assert.match(await readFile(join(dir, 'removed-nodes.json'), 'utf8'), /novacompute-1/);
    const loaded = await loadDeployInput({
      templatesDir: templatesPath(),
      environmentFiles: [
        templatesPath('environments', 'docker.yaml'),
        templatesPath('environments', 'containers-minimal.yaml'),
      ],
      inventory: join(dir, 'nodes.yaml'),
      passwordsFile: join(dir, 'passwords.yaml'),
      writePasswords: false,
      removedNodes: removed.map((r) => r.name),
    });
    assert.deepEqual(
      loaded.inventory.nodes.map((n) => n.name),
      ['overcloud-controller-0', 'overcloud-novacompute-0'],
    );
    assert.deepEqual(loaded.leftOut, ['overcloud-novacompute-1']);
  });
});
