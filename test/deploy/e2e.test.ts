/**
 * End to end: a controller and a compute in network namespaces, deployed over SSH from an undercloud
 * namespace, from images built here and served by a registry in the lab.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRow } from '../../src/deploy/ops.js';
import { packageRoot } from '../../src/util/paths.js';
import { type CliResult, changedContainers, containersByKey, overcloud, succeeded } from './cli.js';
import { pushServiceImages } from './images.js';
import { type Lab, twoNodeLab } from './lab.js';
import { standInDeploy } from './stand-in.js';

/** One row of `overcloud container list --format json`. */
type Row = ContainerRow;

const CONTROLLER = ['Memcached', 'Keystone', 'GlanceApi'];

describe('overcloud deploy on namespaced nodes', { timeout: 240_000 }, () => {
  let lab: Lab;
  let stateDir: string;
  const envFile = (): string => join(lab.dir, 'env.yaml');

  /** writeEnv writes the deployment's environment file; `extra` is appended under parameter_defaults. */
  const writeEnv = async (
    opts: { controller?: string[]; glanceTag?: string; extra?: string } = {},
  ): Promise<void> => {
    const reg = lab.registryHost;
    await writeFile(
      envFile(),
      `parameter_defaults:
  ControllerServices: [${(opts.controller ?? CONTROLLER).map((s) => `OS::TripleO::Services::${s}`).join(', ')}]
  ComputeServices: [OS::TripleO::Services::NovaLibvirt, OS::TripleO::Services::NovaCompute]
  DockerInsecureRegistryAddress: [${reg}]
  DockerMemcachedImage: ${reg}/tripleo/memcached:1
  DockerKeystoneImage: ${reg}/tripleo/keystone:1
  DockerGlanceApiImage: ${reg}/tripleo/glance-api:${opts.glanceTag ?? '1'}
  DockerNovaLibvirtImage: ${reg}/tripleo/nova-libvirt:1
  DockerNovaComputeImage: ${reg}/tripleo/nova-compute:1
${opts.extra ?? ''}`,
    );
  };
  const deployWith = (healthTimeout: string, more: string[]): Promise<CliResult> =>
    overcloud(
      lab,
      standInDeploy(envFile(), [
        '--inventory',
        lab.inventoryFile,
        '--state-dir',
        stateDir,
        '--health-timeout',
        healthTimeout,
        ...more,
      ]),
    );
  const deploy = (...more: string[]): Promise<CliResult> => deployWith('20', more);
  const ok = succeeded;
  const list = () => containersByKey(lab, stateDir);
  const changed = changedContainers;

  before(async () => {
    lab = await twoNodeLab([
      'tripleo/memcached:1',
      'tripleo/keystone:1',
      'tripleo/glance-api:1',
      'tripleo/glance-api:2',
      'tripleo/nova-libvirt:1',
      'tripleo/nova-compute:1',
    ]);
    stateDir = join(lab.dir, 'state');
  });
  after(async () => {
    await lab?.down();
  });

  let first: Map<string, Row>;

  it('deploys both nodes: every service runs and is healthy, ports answer across nodes', async () => {
    await writeEnv();
    const r = ok(await deploy());
    assert.match(r.stdout, /\[step 3\] overcloud-controller-0: exec +keystone_bootstrap/);
    assert.match(r.stdout, /deploy complete: did create 10/);
    first = await list();
    const services = [...first.values()].filter((x) => !/_db_sync|_init_logs/.test(x.name));
    assert.deepEqual(services.map((x) => x.name).sort(), [
      'glance_api',
      'keystone',
      'keystone_cron',
      'memcached',
      'nova_compute',
      'nova_libvirt',
      'nova_virtlogd',
    ]);
    for (const x of services) assert.equal(x.status, 'running', `${x.name} runs`);
    for (const x of services.filter((s) => s.name !== 'nova_virtlogd'))
      assert.equal(x.health, 'healthy', `${x.name} is healthy`);
    for (const x of [...first.values()].filter((s) => /_db_sync|_init_logs/.test(s.name)))
      assert.equal(x.status, 'exited (0)');
    assert.equal(first.get('overcloud-novacompute-0/nova_compute')?.config_id, 'tripleo_step4');
    const [ctl, cmp] = lab.nodes as [Lab['nodes'][0], Lab['nodes'][0]];
    const ks = await lab.inNs(cmp.ns, ['busybox', 'wget', '-q', '-O', '-', `http://${ctl.address}:5000/v3/`]);
    assert.match(ks.stdout, /"host": "overcloud-controller-0"/);
    const lv = await lab.inNs(ctl.ns, ['busybox', 'wget', '-q', '-O', '-', `http://${cmp.address}:16509/`]);
    assert.match(lv.stdout, /libvirtd on overcloud-novacompute-0/);
    // Each node has its own config: the controller has no nova_libvirt volume.
    const vols = await lab.inNode(ctl, ['ls', '/var/lib/config-data/puppet-generated']);
    assert.ok(vols.stdout.includes('keystone') && !vols.stdout.includes('nova_libvirt'));
  });

  it('operator commands: logs and the exact podman command', async () => {
    const logs = ok(
      await overcloud(lab, [
        'container',
        'logs',
        'overcloud-controller-0',
        'keystone',
        '--state-dir',
        stateDir,
      ]),
    );
    assert.match(logs.stdout, /kolla_start: running \/bin\/httpd -f -p 5000/);
    const cmd = ok(
      await overcloud(lab, [
        'debug',
        'print-cmd',
        'overcloud-controller-0',
        'keystone',
        '--state-dir',
        stateDir,
      ]),
    );
    assert.match(cmd.stdout, /^podman run --name=keystone --label=config_id=tripleo_step3 /);
    assert.match(cmd.stdout, /--health-interval=disable/);
    const table = ok(await overcloud(lab, ['container', 'list', '--state-dir', stateDir]));
    assert.match(table.stdout, /^NODE +CONFIG_ID +NAME +IMAGE +STATUS +HEALTH/);
  });

  it('the local driver reads the same node state (run inside the controller)', async () => {
    const ctl = lab.nodes[0] as Lab['nodes'][0];
    const entry = join(packageRoot(), 'dist', 'src', 'cli', 'run.js');
    const r = await lab.inNode(ctl, [
      process.execPath,
      entry,
      ...standInDeploy(envFile(), ['--dry-run', '--inventory', 'localhost', '--state-dir', stateDir]),
    ]);
    // Same containers, found by their labels; only the node name/address in their config differs.
    assert.match(r.stdout, /\[step 3\] localhost: replace +keystone: environment \(TRIPLEO_CONFIG_HASH\)/);
    assert.match(r.stdout, /\[step 1\] localhost: replace +memcached: environment \(TRIPLEO_CONFIG_HASH\)/);
    assert.doesNotMatch(r.stdout, /: create /);
  });

  it('a second deploy with nothing changed changes nothing', async () => {
    const r = ok(await deploy());
    assert.match(r.stdout, /no changes: 10 containers unchanged on 2 node\(s\)/);
    assert.deepEqual(changed(first, await list()), [], r.stdout);
  });

  it('a changed parameter: dry run shows it, deploy restarts only its consumers', async () => {
    const before = await list();
    await writeEnv({ extra: '  MemcachedMaxMemory: 2g\n' });
    const dry = ok(await deploy('--dry-run'));
    assert.match(
      dry.stdout,
      /\[step 1\] overcloud-controller-0: replace +memcached: environment \(TRIPLEO_CONFIG_HASH\)/,
    );
    assert.match(dry.stdout, /unchanged keystone/);
    assert.deepEqual(changed(before, await list()), [], `a dry run changes nothing:\n${dry.stdout}`);
    const r = ok(await deploy());
    const now = await list();
    assert.deepEqual(
      changed(before, now),
      ['overcloud-controller-0/memcached', 'overcloud-controller-0/memcached_init_logs'],
      r.stdout,
    );
  });

  it('a changed image tag replaces only that service', async () => {
    const before = await list();
    await writeEnv({ extra: '  MemcachedMaxMemory: 2g\n', glanceTag: '2' });
    const r = ok(await deploy());
    const now = await list();
    assert.deepEqual(
      changed(before, now),
      ['overcloud-controller-0/glance_api', 'overcloud-controller-0/glance_api_db_sync'],
      r.stdout,
    );
    assert.match(now.get('overcloud-controller-0/glance_api')?.image ?? '', /glance-api:2$/);
  });

  it('a tag re-pushed with a new image replaces its containers (with --pull always)', async () => {
    const before = await list();
    await pushServiceImages(lab.pushUrl, ['tripleo/memcached:1'], 'v2');
    const dry = ok(await deploy('--dry-run'));
    assert.match(dry.stdout, /unchanged memcached/, 'without a pull the node cannot know');
    const r = ok(await deploy('--pull', 'always'));
    assert.match(r.stdout, /replace +memcached: image id/);
    const now = await list();
    assert.deepEqual(
      changed(before, now),
      ['overcloud-controller-0/memcached', 'overcloud-controller-0/memcached_init_logs'],
      r.stdout,
    );
  });

  it('a removed service loses its containers', async () => {
    const before = await list();
    await writeEnv({
      extra: '  MemcachedMaxMemory: 2g\n',
      glanceTag: '2',
      controller: ['Memcached', 'Keystone'],
    });
    const r = ok(await deploy());
    assert.match(r.stdout, /remove +glance_api: no longer in the config/);
    const now = await list();
    assert.deepEqual(
      changed(before, now),
      ['overcloud-controller-0/glance_api', 'overcloud-controller-0/glance_api_db_sync'],
      r.stdout,
    );
    assert.equal(now.has('overcloud-controller-0/glance_api'), false);
  });

  it('a failing health check stops the deploy at its step with logs; the fixed re-run converges', async () => {
    const base = {
      extra: '  MemcachedMaxMemory: 2g\n',
      glanceTag: '2',
      controller: ['Memcached', 'Keystone'],
    };
    await writeEnv({ ...base, extra: `${base.extra}  NovaKeystoneHost: 127.0.0.1\n` });
    const bad = await deployWith('3', []);
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stdout,
      /\[step 4\] overcloud-novacompute-0: FAILED nova_compute: health check still failing/,
    );
    assert.match(bad.stdout, /last 20 log lines of nova_compute:\n +\| kolla_start: running \/bin\/sleep/);
    assert.match(bad.stderr, /deploy stopped at step 4: nova_compute on overcloud-novacompute-0/);
    const during = await list();
    assert.equal(
      during.get('overcloud-controller-0/keystone')?.status,
      'running',
      'earlier steps keep running',
    );
    await writeEnv(base);
    ok(await deploy());
    const fixed = await list();
    assert.equal(fixed.get('overcloud-novacompute-0/nova_compute')?.health, 'healthy');
    assert.match(ok(await deploy()).stdout, /no changes/);
  });
});
