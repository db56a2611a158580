/**
 * The real service definitions, planned without nodes: the containers_minimal topology puts each
 * container on the right role, every API publishes a HAProxy frontend, every service has its own
 * database and RabbitMQ account, the overcloudrc comes from Keystone's bootstrap, and validate picks
 * its checks from the deployed services.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDeployInput } from '../../src/deploy/load.js';
import { type DeployPlan, type NodePlan, planDeploy } from '../../src/deploy/plan.js';
import { templatesPath } from '../../src/util/paths.js';
import { selectChecks } from '../../src/validate/checks.js';
import { rcFile, readOvercloudrc, servicesOf, writeDeployOutputs } from '../../src/validate/overcloudrc.js';
import { MINIMAL_IMAGES } from '../support/minimal-images.js';

const IMAGES = MINIMAL_IMAGES;

describe('real definitions: the containers_minimal topology', () => {
  let dir: string;
  let plan: DeployPlan;
  let passwords: Record<string, string>;

  const plan2 = async (extra = ''): Promise<DeployPlan> => {
    await writeFile(
      join(dir, 'env.yaml'),
      `parameter_defaults:\n${IMAGES.map((i) => `  Docker${i}Image: reg.lab:5000/overcloud/x-${i.toLowerCase()}:1`).join('\n')}\n${extra}`,
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
    passwords = loaded.input.passwords;
    return planDeploy(loaded.input);
  };
  const node = (p: DeployPlan, name: string): NodePlan =>
    p.nodes.find((n) => n.node.name === name) as NodePlan;
  const names = (n: NodePlan, bootstrap: boolean): string[] =>
    [...n.steps.values()]
      .flat()
      .filter((c) => c.bootstrap === bootstrap)
      .map((c) => c.name)
      .sort();
  const file = (n: NodePlan, volume: string, path: string): string =>
    n.volumes.find((v) => v.name === volume)?.files.find((f) => f.path === path)?.content ?? '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcloud-real-'));
    await writeFile(
      join(dir, 'nodes.yaml'),
      'nodes:\n  - {name: overcloud-controller-0, role: Controller, address: 192.0.2.10}\n  - {name: overcloud-novacompute-0, role: Compute, address: 192.0.2.11}\n',
    );
    plan = await plan2();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts every service container on its role, one-time tasks on the bootstrap node', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    const cmp = node(plan, 'overcloud-novacompute-0');
    assert.deepEqual(names(ctl, false), [
      'glance_api',
      'haproxy',
      'heat_api',
      'heat_engine',
      'horizon',
      'keystone',
      'memcached',
      'mysql',
      'neutron_api',
      'neutron_dhcp',
      'neutron_linuxbridge_agent',
      'nova_api',
      'nova_conductor',
      'nova_scheduler',
      'placement_api',
      'rabbitmq',
    ]);
    assert.deepEqual(names(cmp, false), ['neutron_linuxbridge_agent', 'nova_compute']);
    assert.deepEqual(names(cmp, true), ['nova_cellv2_discover_hosts']);
    const tasks = names(ctl, true);
    for (const svc of ['keystone', 'glance', 'placement', 'nova', 'neutron', 'heat'])
      assert.ok(tasks.includes(`${svc}_db_create`), `${svc} creates its database`);
    for (const svc of ['nova', 'neutron', 'heat'])
      assert.ok(tasks.includes(`${svc}_rabbit_user`), `${svc} has its own RabbitMQ account`);
    for (const svc of ['glance', 'placement', 'nova', 'neutron', 'heat', 'horizon'])
      assert.ok(tasks.includes(`${svc}_ks_register`), `${svc} registers its endpoints`);
    // No busybox stand-in command survives in the real topology.
    for (const k of [...ctl.kolla, ...cmp.kolla])
      assert.doesNotMatch(k.content, /\/bin\/httpd|sleep 2147483647/);
  });

  it('each API and Horizon has its HAProxy frontend on the controller address, backend on loopback', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    const haproxy = ctl.volumes.find((v) => v.name === 'haproxy');
    const frontends = (haproxy?.files ?? []).map((f) => f.path).sort();
    assert.deepEqual(frontends, [
      '/etc/haproxy/conf.d/00-global.cfg',
      '/etc/haproxy/conf.d/glance_api.cfg',
      '/etc/haproxy/conf.d/heat_api.cfg',
      '/etc/haproxy/conf.d/horizon.cfg',
      '/etc/haproxy/conf.d/keystone.cfg',
      '/etc/haproxy/conf.d/neutron.cfg',
      '/etc/haproxy/conf.d/nova_osapi.cfg',
      '/etc/haproxy/conf.d/placement.cfg',
    ]);
    const ks = file(ctl, 'haproxy', '/etc/haproxy/conf.d/keystone.cfg');
    assert.match(ks, /bind 192\.0\.2\.10:5000/);
    assert.match(ks, /server local 127\.0\.0\.1:5000 check/);
    assert.match(ks, /option httpchk/);
  });

  it('every password is generated once, each service has its own, and configs use them', () => {
    for (const p of [
      'AdminPassword',
      'MysqlRootPassword',
      'KeystonePassword',
      'GlancePassword',
      'NovaPassword',
    ])
      assert.match(passwords[p] ?? '', /^[A-Za-z0-9]{25}$/, p);
    const rabbit = ['NovaRabbitPassword', 'NeutronRabbitPassword', 'HeatRabbitPassword'].map(
      (p) => passwords[p],
    );
    assert.equal(new Set(rabbit).size, 3);
    const ctl = node(plan, 'overcloud-controller-0');
    const nova = file(ctl, 'nova_conductor', '/etc/nova/nova.conf');
    assert.ok(nova.includes(`rabbit://nova:${passwords.NovaRabbitPassword}@192.0.2.10:5672/`));
    const cmp = node(plan, 'overcloud-novacompute-0');
    const compute = file(cmp, 'nova_compute', '/etc/nova/nova.conf');
    assert.match(compute, /compute_driver = fake\.FakeDriver/);
    assert.match(compute, /host = overcloud-novacompute-0/);
    assert.doesNotMatch(compute, /\[database\]/, 'nova-compute has no database access');
  });

  it('a changed scheduler filter list changes only nova_scheduler', async () => {
    const again = await plan2('  NovaSchedulerDefaultFilters: [ComputeFilter]\n');
    const all = (p: DeployPlan): [string, string][] =>
      p.nodes.flatMap((n) =>
        [...n.steps.values()].flat().map((c): [string, string] => [`${n.node.name}/${c.name}`, c.configData]),
      );
    const before = new Map(all(plan));
    const diff = all(again)
      .filter(([k, v]) => before.get(k) !== v)
      .map(([k]) => k.split('/')[1]);
    assert.deepEqual(diff, ['nova_scheduler']);
  });

  it('overcloudrc (0600) and services.json come from the plan; validate selects every check', async () => {
    const state = join(dir, 'state');
    await writeDeployOutputs(state, plan, 'overcloud');
    assert.equal((await stat(rcFile(state))).mode & 0o777, 0o600);
    const rc = await readOvercloudrc(rcFile(state));
    assert.equal(rc.OS_AUTH_URL, 'http://192.0.2.10:5000/v3');
    assert.equal(rc.OS_PASSWORD, passwords.AdminPassword);
    assert.match(await readFile(rcFile(state), 'utf8'), /^export OS_PROJECT_NAME='admin'$/m);
    const services = servicesOf(plan);
    assert.deepEqual(services.NovaCompute, ['overcloud-novacompute-0']);
    assert.deepEqual(
      selectChecks(undefined, services).map((c) => c.name),
      [
        'token',
        'catalogue',
        'compute-services',
        'network-agents',
        'image',
        'network',
        'server',
        'stack',
        'horizon',
      ],
    );
    assert.deepEqual(
      selectChecks(undefined, { Keystone: ['a'], GlanceApi: ['a'] }).map((c) => c.name),
      ['token', 'catalogue', 'image'],
    );
    assert.throws(() => selectChecks(['token', 'nope'], services), /unknown check\(s\): nope/);
  });
});
