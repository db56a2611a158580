/**
 * End to end, for real: the reduced overcloud (MariaDB, Memcached, HAProxy, Keystone, Glance) built
 * from Debian's packages by `overcloud image build`, pushed by it into the lab's registry, deployed
 * by `overcloud deploy` on two namespaced lab nodes (controller + compute, test/deploy/lab.ts), and
 * proven by `overcloud validate` (token, catalogue, image round trip) through Debian's openstack
 * client from the undercloud namespace. Then convergence: a no-op re-deploy, one parameter change,
 * one service removed. Skipped, loudly, only when the Debian mirror cannot be reached.
 */
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { refreshSnapshot } from '../../src/image-build/apt.js';
import { DEFAULT_CACHE_DIR, runImageBuild } from '../../src/image-build/builder.js';
import { templatesPath } from '../../src/util/paths.js';
import { type CliResult, overcloud } from '../deploy/cli.js';
import { type Lab, labUp } from '../deploy/lab.js';

// Redis: the one service beyond the reduced set in CI (a small image, step 1, its own check).
const IMAGES = ['mariadb', 'memcached', 'haproxy', 'keystone', 'glance-api', 'redis'];
const REDUCED = ['MySQL', 'Memcached', 'HAproxy', 'Keystone', 'GlanceApi', 'Redis'];
// The image-build e2e builds into the same namespace: its cached layers are reused here.
const NS = 'overcloud-test';

interface Row {
  node: string;
  name: string;
  status: string;
  health: string;
  id: string;
  started_at: number;
}

async function mirrorProblem(): Promise<string | undefined> {
  try {
    await refreshSnapshot(join(DEFAULT_CACHE_DIR, 'apt'));
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code === 'MIRROR_UNREACHABLE') return (e as Error).message;
    throw e;
  }
}

describe('a real overcloud (reduced set) on namespaced nodes, validated with the openstack client', {
  timeout: 1_200_000,
}, () => {
  let lab: Lab | undefined;
  let skip: string | undefined;
  let stateDir = '';
  const envFile = (): string => join((lab as Lab).dir, 'env.yaml');

  const writeEnv = async (opts: { services?: string[]; extra?: string } = {}): Promise<void> => {
    const reg = (lab as Lab).registryHost;
    const img = (name: string): string => `${reg}/${NS}/debian-binary-${name}:latest`;
    await writeFile(
      envFile(),
      `parameter_defaults:
  ControllerServices: [${(opts.services ?? REDUCED).map((s) => `OS::TripleO::Services::${s}`).join(', ')}]
  ComputeServices: []
  DockerInsecureRegistryAddress: [${reg}]
  DockerMysqlImage: ${img('mariadb')}
  DockerMemcachedImage: ${img('memcached')}
  DockerHAProxyImage: ${img('haproxy')}
  DockerKeystoneImage: ${img('keystone')}
  DockerGlanceApiImage: ${img('glance-api')}
  DockerRedisImage: ${img('redis')}
${opts.extra ?? ''}`,
    );
  };
  const cli = (args: string[]): Promise<CliResult> => overcloud(lab as Lab, args, 600_000);
  const deploy = (...more: string[]): Promise<CliResult> =>
    cli([
      'deploy',
      '--templates',
      '-e',
      templatesPath('environments', 'docker.yaml'),
      '-e',
      envFile(),
      '--inventory',
      (lab as Lab).inventoryFile,
      '--state-dir',
      stateDir,
      '--health-timeout',
      '180',
      ...more,
    ]);
  const ok = (r: CliResult): CliResult => {
    assert.equal(r.code, 0, `overcloud failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const list = async (): Promise<Map<string, Row>> => {
    const r = ok(await cli(['container', 'list', '--format', 'json', '--state-dir', stateDir]));
    return new Map((JSON.parse(r.stdout) as Row[]).map((x) => [`${x.node}/${x.name}`, x]));
  };
  const changed = (a: Map<string, Row>, b: Map<string, Row>): string[] =>
    [...new Set([...a.keys(), ...b.keys()])]
      .filter((k) => a.get(k)?.id !== b.get(k)?.id || a.get(k)?.started_at !== b.get(k)?.started_at)
      .sort();
  /** answers tells whether a TCP port on the controller answers HTTP, seen from the undercloud. */
  const answers = async (port: number, path = '/'): Promise<boolean> => {
    const l = lab as Lab;
    const ctl = l.nodes[0] as Lab['nodes'][0];
    try {
      await l.inNs(l.undercloud.ns, [
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '--max-time',
        '5',
        `http://${ctl.address}:${port}${path}`,
      ]);
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    skip = await mirrorProblem();
    if (skip !== undefined) {
      console.log(`# SKIPPED real overcloud e2e: the Debian mirror is unreachable: ${skip}`);
      return;
    }
    lab = await labUp({
      nodes: [
        { name: 'overcloud-controller-0', role: 'Controller' },
        { name: 'overcloud-novacompute-0', role: 'Compute' },
      ],
    });
    stateDir = join(lab.dir, 'state');
    const t = Date.now();
    const built = await runImageBuild({
      include: `^(${IMAGES.join('|')})$`,
      namespace: NS,
      prefix: 'debian-binary-',
      tag: 'latest',
      parallel: 2,
      push: lab.pushUrl.replace(/^http:\/\//, ''),
      log: (l) => console.log(`# ${l}`),
    });
    const bad = built.images.filter((i) => i.status !== 'built' && i.status !== 'cached');
    assert.deepEqual(
      bad.map((i) => `${i.name}: ${i.status} ${i.error ?? ''}`),
      [],
    );
    console.log(`# images built/cached and pushed in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  });
  after(async () => {
    await lab?.down();
  });

  let first: Map<string, Row>;

  it('deploys the reduced set: one-time tasks exit 0, services healthy, overcloudrc written 0600', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    await writeEnv();
    const started = Date.now();
    const r = ok(await deploy());
    console.log(`# first deploy: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const step of r.stdout.split('\n').filter((l) => /applied in|pull\]/.test(l)))
      console.log(`# ${step}`);
    first = await list();
    const byName = new Map([...first.values()].map((x) => [x.name, x]));
    for (const svc of ['mysql', 'memcached', 'haproxy', 'keystone', 'glance_api', 'redis']) {
      assert.equal(byName.get(svc)?.status, 'running', svc);
      assert.equal(byName.get(svc)?.health, 'healthy', svc);
      assert.equal(byName.get(svc)?.node, 'overcloud-controller-0', svc);
    }
    for (const task of [
      'keystone_db_create',
      'keystone_bootstrap',
      'glance_db_create',
      'glance_db_sync',
      'glance_ks_register',
    ])
      assert.equal(byName.get(task)?.status, 'exited (0)', task);
    const rc = join(stateDir, 'overcloudrc');
    assert.equal((await stat(rc)).mode & 0o777, 0o600);
    assert.equal((await stat(join(stateDir, 'passwords.yaml'))).mode & 0o777, 0o600);
  });

  it('overcloud validate: token, catalogue, image and redis checks pass from the undercloud', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const r = ok(await cli(['validate', '--state-dir', stateDir]));
    console.log(r.stdout.replace(/^/gm, '# '));
    // Keystone's public endpoint is the controller's address (the lab places nodes from .10 on).
    const ctl = (lab as Lab).nodes[0] as Lab['nodes'][0];
    assert.ok(
      r.stdout
        .split('\n')
        .includes(`validating http://${ctl.address}:5000/v3: token, catalogue, image, redis`),
      r.stdout,
    );
    assert.match(r.stdout, /^\[ok\] +token issue \(\d+\.\d s\)/m);
    assert.match(r.stdout, /^\[ok\] +catalogue lists the deployed services \(\d+\.\d s\): identity, image$/m);
    assert.match(r.stdout, /^\[ok\] +image created and downloaded back byte for byte/m);
    assert.match(r.stdout, /^\[ok\] +Redis through HAProxy: refused without the password, SET\/GET with it/m);
    assert.match(r.stdout, /validate: 4\/4 checks passed/);
  });

  it('a failing check names its service and shows its containers logs', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const ctl = (lab as Lab).nodes[0] as Lab['nodes'][0];
    await (lab as Lab).inNode(ctl, ['podman', 'stop', '-t', '5', 'glance_api']);
    try {
      const r = await cli(['validate', '--state-dir', stateDir, '--only', 'token,image', '--log-lines', '5']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /^\[ok\] +token issue/m);
      assert.match(r.stdout, /^\[FAIL\] image created .*: service glance: /m);
      assert.match(
        r.stdout,
        /--- overcloud-controller-0 glance_api \(exited \(\d+\)[^)]*\): last 5 lines ---/,
      );
      assert.match(r.stderr, /failed: image/);
    } finally {
      // The next deploy converges it back (a stopped service is recreated).
      ok(await deploy());
    }
  });

  it('a second deploy with nothing changed restarts nothing and re-runs no one-time task', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const before = await list();
    const started = Date.now();
    const r = ok(await deploy());
    const secs = (Date.now() - started) / 1000;
    console.log(`# no-op re-deploy: ${secs.toFixed(1)} s`);
    assert.match(r.stdout, /no changes: \d+ containers unchanged on 2 node\(s\)/);
    assert.deepEqual(changed(before, await list()), []);
  });

  it('one parameter changed restarts only the containers that read it', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    const before = await list();
    await writeEnv({ extra: '  MemcachedMaxMemory: 96\n' });
    const r = ok(await deploy());
    assert.match(r.stdout, /replace +memcached: environment \(TRIPLEO_CONFIG_HASH\)/);
    assert.deepEqual(changed(before, await list()), ['overcloud-controller-0/memcached']);
  });

  it('removing a service removes its containers and its HAProxy frontend; the rest keeps serving', async (t) => {
    if (skip !== undefined) return t.skip(skip);
    assert.ok(await answers(9292), 'glance answers through haproxy before');
    const before = await list();
    await writeEnv({
      services: REDUCED.filter((s) => s !== 'GlanceApi'),
      extra: '  MemcachedMaxMemory: 96\n',
    });
    ok(await deploy());
    const now = await list();
    assert.deepEqual(
      [...now.values()].filter((x) => x.name.startsWith('glance')).map((x) => x.name),
      [],
    );
    // haproxy restarted (its frontend file left the config volume); nothing else did.
    assert.deepEqual(
      changed(before, now).filter((k) => !k.includes('/glance')),
      ['overcloud-controller-0/haproxy'],
    );
    assert.equal(await answers(9292), false, 'no frontend on 9292 any more');
    assert.ok(await answers(5000, '/v3'), 'keystone still answers through haproxy');
    const v = ok(await cli(['validate', '--state-dir', stateDir]));
    assert.match(v.stdout, /validate: 3\/3 checks passed/);
  });
});
