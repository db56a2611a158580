import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describe as describeAction, diffStep, isNoop, predictSteps } from '../../src/deploy/diff.js';
import { type NodePlan, planDeploy } from '../../src/deploy/plan.js';
import { runArgs } from '../../src/deploy/podman-args.js';
import { type Fixture, fixture, observedFrom, smallEnv } from './fixtures.js';

const all = (n: NodePlan) => [...n.steps.values()].flat();
/** kinds lists what predictSteps would do on the node (unchanged entries left out). */
const kinds = (n: NodePlan, observed: ReturnType<typeof observedFrom>, images = new Map<string, string>()) =>
  predictSteps(n, observed, images).flatMap((d) =>
    d.actions
      .filter((a) => a.kind !== 'unchanged' && a.kind !== 'skip-exec')
      .map((a) => `${d.step} ${describeAction(a).replace(/\s+/g, ' ')}`),
  );

describe('deploy diff (paunch apply decisions)', () => {
  let fx: Fixture;
  let ctl: NodePlan;
  before(async () => {
    fx = await fixture();
    const plan = planDeploy((await fx.load(smallEnv())).input);
    ctl = plan.nodes.find((n) => n.node.name === 'overcloud-controller-0') as NodePlan;
  });
  after(async () => fx.tmp.cleanup());

  it('creates everything on an empty node, and runs the exec after its target', () => {
    const lines = kinds(ctl, []);
    assert.ok(lines.includes('1 create memcached'));
    assert.ok(lines.includes('3 create keystone_db_sync (bootstrap node)'));
    assert.ok(lines.includes('3 exec keystone_bootstrap: keystone was (re)created'));
    assert.equal(
      lines.filter((l) => /^\d create /.test(l)).length,
      all(ctl).filter((c) => c.spec.action === 'run').length,
    );
  });

  it('changes nothing when the node already runs the plan', () => {
    const observed = observedFrom(all(ctl), ctl.managedBy);
    assert.deepEqual(kinds(ctl, observed), []);
    for (const step of [1, 2, 3, 4, 5])
      assert.ok(isNoop(diffStep(ctl, step, observed, new Map(), new Set())));
  });

  it('replaces a container whose config changed and names the field', async () => {
    const observed = observedFrom(all(ctl), ctl.managedBy);
    const changed = planDeploy((await fx.load(smallEnv('  MemcachedMaxMemory: 2g\n'))).input).nodes.find(
      (n) => n.node.name === ctl.node.name,
    ) as NodePlan;
    assert.deepEqual(kinds(changed, observed), [
      '1 replace memcached_init_logs: environment (TRIPLEO_CONFIG_HASH)',
      '1 replace memcached: environment (TRIPLEO_CONFIG_HASH)',
    ]);
  });

  it('replaces a container whose image ID changed under the same tag', () => {
    const observed = observedFrom(all(ctl), ctl.managedBy, 'sha256:old');
    const images = new Map([['reg.lab:5000/tripleo/memcached:1', 'sha256:new']]);
    const lines = kinds(ctl, observed, images);
    assert.deepEqual(lines, [
      '1 replace memcached_init_logs: image id (reg.lab:5000/tripleo/memcached:1 now sha256:new)',
      '1 replace memcached: image id (reg.lab:5000/tripleo/memcached:1 now sha256:new)',
    ]);
  });

  it('removes containers that left the config, and those of another role', () => {
    const observed = observedFrom(all(ctl), ctl.managedBy);
    const stray = {
      ...(observed[0] as (typeof observed)[0]),
      id: 'x1',
      name: 'old_service',
      labels: {
        config_id: 'tripleo_step2',
        container_name: 'old_service',
        managed_by: ctl.managedBy,
        config_data: '{}',
      },
    };
    const other = {
      ...stray,
      id: 'x2',
      name: 'cmp',
      labels: { ...stray.labels, container_name: 'cmp', managed_by: 'overcloud-Compute' },
    };
    assert.deepEqual(kinds(ctl, [...observed, stray, other]), [
      '1 remove cmp: no longer in the config',
      '2 remove old_service: no longer in the config',
    ]);
  });

  it('re-runs what did not converge: a stopped service, an unhealthy one, a failed one-shot; then its exec', () => {
    const observed = observedFrom(all(ctl), ctl.managedBy).map((o) => {
      if (o.name === 'memcached') return { ...o, state: 'exited', exitCode: 1 };
      if (o.name === 'keystone') return { ...o, health: 'unhealthy' as const };
      if (o.name === 'glance_api_db_sync') return { ...o, exitCode: 3 };
      return o;
    });
    assert.deepEqual(kinds(ctl, observed), [
      '1 replace memcached: not running (exited)',
      '3 replace keystone: unhealthy',
      '3 exec keystone_bootstrap: keystone was (re)created',
      '4 replace glance_api_db_sync: last run failed (exit 3)',
    ]);
  });

  it('builds the podman command with paunch labels and polled health checks', () => {
    const ks = all(ctl).find((c) => c.name === 'keystone');
    assert.ok(ks);
    const args = runArgs({ ...ks, managedBy: ctl.managedBy });
    assert.equal(args[0], 'run');
    assert.ok(args.includes('--label=config_id=tripleo_step3'));
    assert.ok(args.includes('--label=container_name=keystone'));
    assert.ok(args.includes('--label=managed_by=overcloud-Controller'));
    assert.ok(args.includes(`--label=config_data=${ks.configData}`));
    assert.ok(args.includes('--health-interval=disable'));
    assert.ok(args.includes('--detach=true'));
    assert.equal(args.at(-1), 'reg.lab:5000/tripleo/keystone:1', 'no command: the image runs kolla_start');
  });
});
