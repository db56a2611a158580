import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type DeployPlan, type NodePlan, planDeploy } from '../../src/deploy/plan.js';
import { loadServiceTemplate } from '../../src/deploy/template.js';
import { AppError } from '../../src/errors.js';
import { type Fixture, fixture, smallEnv } from './fixtures.js';
import { standInPath } from './stand-in.js';

const node = (plan: DeployPlan, name: string): NodePlan => {
  const n = plan.nodes.find((x) => x.node.name === name);
  assert.ok(n, `node ${name} planned`);
  return n;
};
const container = (n: NodePlan, name: string) => {
  const c = [...n.steps.values()].flat().find((x) => x.name === name);
  assert.ok(c, `container ${name} planned on ${n.node.name}`);
  return c;
};
const hashOf = (env: string[] | undefined): string | undefined =>
  env?.find((e) => e.startsWith('TRIPLEO_CONFIG_HASH='));

describe('deploy planner', () => {
  let fx: Fixture;
  before(async () => {
    fx = await fixture();
  });
  after(async () => fx.tmp.cleanup());

  it('plans per node and step, with bootstrap tasks on the bootstrap node only', async () => {
    const { input } = await fx.load(smallEnv());
    const plan = planDeploy(input);
    const ctl = node(plan, 'overcloud-controller-0');
    const cmp = node(plan, 'overcloud-compute-0');
    assert.deepEqual(
      (ctl.steps.get(1) ?? []).map((c) => c.name),
      ['memcached_init_logs', 'memcached'],
    );
    assert.deepEqual(
      (ctl.steps.get(3) ?? []).map((c) => c.name),
      ['keystone_db_sync', 'keystone', 'keystone_bootstrap', 'keystone_cron'],
    );
    assert.deepEqual(
      (cmp.steps.get(3) ?? []).map((c) => c.name),
      ['nova_virtlogd', 'nova_libvirt'],
    );
    assert.deepEqual(
      (cmp.steps.get(4) ?? []).map((c) => c.name),
      ['nova_compute'],
    );
    assert.equal(plan.bootstrapNodes['OS::TripleO::Services::Keystone'], 'overcloud-controller-0');
    assert.equal(container(ctl, 'keystone_db_sync').bootstrap, true);
    assert.equal(container(ctl, 'keystone').configId, 'tripleo_step3');
    assert.equal(ctl.managedBy, 'overcloud-Controller');
    assert.deepEqual(cmp.images, [
      'reg.lab:5000/tripleo/nova-compute:1',
      'reg.lab:5000/tripleo/nova-libvirt:1',
    ]);
    // nova.conf on the compute names the controller's address (a cross-node parameter).
    const novaConf = cmp.volumes
      .find((v) => v.name === 'nova_libvirt')
      ?.files.find((f) => f.path === '/etc/nova/nova.conf');
    assert.match(novaConf?.content ?? '', /auth_url = http:\/\/10\.0\.0\.11:5000\/v3\//);
    assert.equal(novaConf?.mode, '0640');
  });

  it('injects one config hash per consumer and restarts only consumers when a parameter changes', async () => {
    const a = planDeploy((await fx.load(smallEnv())).input);
    const b = planDeploy((await fx.load(smallEnv('  MemcachedMaxMemory: 2g\n'))).input);
    const before = node(a, 'overcloud-controller-0');
    const now = node(b, 'overcloud-controller-0');
    const changed = [...now.steps.values()]
      .flat()
      .filter((c) => c.configData !== container(before, c.name).configData)
      .map((c) => c.name)
      .sort();
    assert.deepEqual(changed, ['memcached', 'memcached_init_logs']);
    assert.ok(hashOf(container(now, 'memcached').spec.environment));
    assert.notEqual(
      hashOf(container(now, 'memcached').spec.environment),
      hashOf(container(before, 'memcached').spec.environment),
    );
    // The compute node is untouched.
    const cb = node(a, 'overcloud-compute-0');
    for (const c of [...node(b, 'overcloud-compute-0').steps.values()].flat())
      assert.equal(c.configData, container(cb, c.name).configData);
  });

  it('generates passwords once and reuses them', async () => {
    const first = await fx.load(smallEnv(), { passwords: 'fresh.yaml' });
    const second = await fx.load(smallEnv(), { passwords: 'fresh.yaml' });
    assert.ok(first.generatedPasswords.includes('AdminPassword'));
    assert.deepEqual(second.generatedPasswords, []);
    assert.equal(first.input.passwords.KeystoneAdminToken, second.input.passwords.KeystoneAdminToken);
    assert.match(first.input.passwords.AdminPassword ?? '', /^[A-Za-z0-9]{25}$/);
    assert.equal((await stat(fx.tmp.path('fresh.yaml'))).mode & 0o777, 0o600);
  });

  it('an image tag change changes only that service', async () => {
    const a = planDeploy((await fx.load(smallEnv())).input);
    const b = planDeploy((await fx.load(smallEnv().replace('glance-api:1', 'glance-api:2'))).input);
    const changed = [...node(b, 'overcloud-controller-0').steps.values()]
      .flat()
      .filter((c) => c.configData !== container(node(a, 'overcloud-controller-0'), c.name).configData)
      .map((c) => c.name)
      .sort();
    assert.deepEqual(changed, ['glance_api', 'glance_api_db_sync']);
  });

  it('names the service and docker.yaml when an enabled service has no container definition', async () => {
    const { input } = await fx.load(smallEnv(), { docker: false });
    assert.throws(
      () => planDeploy(input),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'SERVICE_UNMAPPED' &&
        /OS::TripleO::Services::\w+/.test(e.message) &&
        /environments\/docker\.yaml/.test(e.hint ?? ''),
    );
  });

  it('renders every shipped definition for the default Pike roles', async () => {
    const images = new Set<string>();
    for (const f of await allDefinitions(standInPath('docker', 'services'))) {
      for (const p of Object.keys((await loadServiceTemplate(f)).parameters))
        if (/^Docker\w+Image$/.test(p)) images.add(p);
    }
    const env = `parameter_defaults:\n${[...images].map((p) => `  ${p}: reg.lab:5000/tripleo/x:1`).join('\n')}\n`;
    const { input } = await fx.load(env);
    const plan = planDeploy(input);
    const ctl = node(plan, 'overcloud-controller-0');
    assert.ok([...ctl.steps.values()].flat().length > 40, 'the controller runs the Pike container set');
    assert.ok(
      plan.hostServices.includes('OS::TripleO::Services::Ntp'),
      'bare-metal services are reported, not deployed',
    );
    const names = [...ctl.steps.values()].flat().map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
  });
});

async function allDefinitions(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await allDefinitions(`${dir}/${e.name}`)));
    else if (e.name.endsWith('.yaml')) out.push(`${dir}/${e.name}`);
  }
  return out;
}
