/**
 * End to end through Ansible (`deploy --config-download`): the same namespaced lab as e2e.test.ts,
 * ansible-playbook run from the undercloud namespace over SSH, `overcloud paunch` on each node.
 * Proves the driver deploys, that a second run changes nothing (our summary and Ansible's recap),
 * that a config change recreates exactly its consumers, and that a failing health check is reported
 * as the SSH engine reports it.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ContainerRow } from '../../src/deploy/ops.js';
import { run } from '../support/exec.js';
import { type CliResult, changedContainers, containersByKey, overcloud, succeeded } from './cli.js';
import { type Lab, twoNodeLab } from './lab.js';
import { standInDeploy } from './stand-in.js';

describe('overcloud deploy --config-download (Ansible) on namespaced nodes', { timeout: 240_000 }, () => {
  let lab: Lab;
  let stateDir: string;
  let outputDir: string;
  const envFile = (): string => join(lab.dir, 'env.yaml');

  const writeEnv = async (extra = ''): Promise<void> => {
    const reg = lab.registryHost;
    await writeFile(
      envFile(),
      `parameter_defaults:
  ControllerServices: [OS::TripleO::Services::Memcached, OS::TripleO::Services::Keystone]
  ComputeServices: [OS::TripleO::Services::NovaLibvirt, OS::TripleO::Services::NovaCompute]
  DockerInsecureRegistryAddress: [${reg}]
  DockerMemcachedImage: ${reg}/tripleo/memcached:1
  DockerKeystoneImage: ${reg}/tripleo/keystone:1
  DockerNovaLibvirtImage: ${reg}/tripleo/nova-libvirt:1
  DockerNovaComputeImage: ${reg}/tripleo/nova-compute:1
${extra}`,
    );
  };
  const deploy = (healthTimeout = '20'): Promise<CliResult> =>
    overcloud(
      lab,
      standInDeploy(envFile(), [
        '--inventory',
        lab.inventoryFile,
        '--state-dir',
        stateDir,
        '--health-timeout',
        healthTimeout,
        '--config-download',
        '--output-dir',
        outputDir,
      ]),
    );
  const ok = succeeded;
  const list = () => containersByKey(lab, stateDir);
  const changed = changedContainers;

  before(async () => {
    lab = await twoNodeLab([
      'tripleo/memcached:1',
      'tripleo/keystone:1',
      'tripleo/nova-libvirt:1',
      'tripleo/nova-compute:1',
    ]);
    stateDir = join(lab.dir, 'state');
    outputDir = join(lab.dir, 'config-download');
  });
  after(async () => {
    await lab?.down();
  });

  let first: Map<string, ContainerRow>;

  it('deploys both nodes through ansible-playbook; the folder holds inventory, playbook and node plans', async () => {
    await writeEnv();
    const r = ok(await deploy());
    assert.match(r.stdout, /\[step 3\] overcloud-controller-0: exec +keystone_bootstrap/);
    assert.match(r.stdout, /deploy complete: did create 8, replace 0, remove 0, exec 1/);
    assert.match(
      r.stdout,
      /\[ansible\] overcloud-controller-0: ok=\d+ changed=[1-9]\d* unreachable=0 failed=0/,
    );
    first = await list();
    assert.equal(first.size, 8);
    for (const x of first.values())
      if (!/_db_sync|_init_logs/.test(x.name)) assert.equal(x.status, 'running', `${x.name} runs`);
    assert.equal(first.get('overcloud-controller-0/keystone')?.health, 'healthy');
    assert.equal(first.get('overcloud-novacompute-0/nova_compute')?.config_id, 'tripleo_step4');

    const inv = parse(await readFile(join(outputDir, 'inventory.yaml'), 'utf8'));
    assert.deepEqual(Object.keys(inv.all.children.overcloud.children).sort(), ['Compute', 'Controller']);
    assert.equal(
      inv.all.children.overcloud.children.Compute.hosts['overcloud-novacompute-0'].ansible_host,
      lab.nodes[1]?.address,
    );
    const planFile = join(outputDir, 'overcloud-controller-0', 'node-plan.json');
    assert.equal((await stat(planFile)).mode & 0o777, 0o600, 'the node plan holds passwords');
    // The node kept its own copy, in its own /var/lib/tripleo-config.
    const ctl = lab.nodes[0] as Lab['nodes'][0];
    const onNode = await lab.inNode(ctl, ['cat', '/var/lib/tripleo-config/overcloud/node-plan.json']);
    assert.equal(JSON.parse(onNode.stdout).node.name, 'overcloud-controller-0');
  });

  it('a second run changes nothing, and Ansible says changed=0', async () => {
    const r = ok(await deploy());
    assert.match(r.stdout, /no changes: 8 containers unchanged on 2 node\(s\)/);
    assert.match(
      r.stdout,
      /\[ansible\] overcloud-controller-0: ok=1 changed=0 unreachable=0 failed=0 skipped=6/,
    );
    assert.match(
      r.stdout,
      /\[ansible\] overcloud-novacompute-0: ok=1 changed=0 unreachable=0 failed=0 skipped=6/,
    );
    assert.deepEqual(changed(first, await list()), [], r.stdout);
    // The run's SSH ControlMasters were told to exit: no ssh process is left in the undercloud.
    const pids = (await run('ip', ['netns', 'pids', lab.undercloud.ns])).stdout.split('\n').filter(Boolean);
    const left = pids.length ? (await run('ps', ['-o', 'args=', '-p', pids.join(',')])).stdout : '';
    assert.doesNotMatch(left, /^ssh /m, left);
  });

  it('a changed parameter recreates exactly the containers that read it', async () => {
    const before = await list();
    await writeEnv('  MemcachedMaxMemory: 2g\n');
    const r = ok(await deploy());
    assert.match(r.stdout, /replace +memcached: environment \(TRIPLEO_CONFIG_HASH\)/);
    assert.match(r.stdout, /\[ansible\] overcloud-novacompute-0: ok=1 changed=0 /);
    assert.deepEqual(
      changed(before, await list()),
      ['overcloud-controller-0/memcached', 'overcloud-controller-0/memcached_init_logs'],
      r.stdout,
    );
  });

  it('a failing health check stops at its step with the container, exit code and logs', async () => {
    await writeEnv('  MemcachedMaxMemory: 2g\n  NovaKeystoneHost: 127.0.0.1\n');
    const bad = await deploy('3');
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stdout,
      /\[step 4\] overcloud-novacompute-0: FAILED nova_compute: health check still failing/,
    );
    assert.match(bad.stdout, /last 20 log lines of nova_compute:\n +\| kolla_start: running \/bin\/sleep/);
    assert.match(bad.stderr, /deploy stopped at step 4: nova_compute on overcloud-novacompute-0/);
    await writeEnv('  MemcachedMaxMemory: 2g\n');
    ok(await deploy());
    assert.match(ok(await deploy()).stdout, /no changes/);
  });
});
