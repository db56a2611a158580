import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCatalogue } from '../../src/prepare/catalogue.js';
import { planPrepare, templateVars, withTag } from '../../src/prepare/prepare.js';
import { type PrepareDeps, type PrepareOptions, runPrepare } from '../../src/prepare/prepare-run.js';
import { templatesPath } from '../../src/util/paths.js';
import { assertGolden } from '../support/golden.js';
import { tmpTree } from '../support/tmp.js';

const NOW = new Date('2017-11-20T10:00:00.000Z');
const DOCKER_ENV = templatesPath('environments', 'docker.yaml');

function options(over: Partial<PrepareOptions> = {}): PrepareOptions {
  return {
    set: [],
    includes: [],
    excludes: [],
    environmentFiles: [],
    environmentDirectories: [],
    detectInsecure: true,
    insecureRegistries: [],
    format: 'yaml',
    commandLine: 'overcloud container image prepare (test)',
    now: NOW,
    outputEnvFile: 'env.yaml',
    ...over,
  };
}

function deps(
  probes: Record<string, 'https' | 'https-unverified' | 'http' | 'unreachable'> = {},
): PrepareDeps & { warnings: string[]; probed: string[] } {
  const warnings: string[] = [];
  const probed: string[] = [];
  return {
    warnings,
    probed,
    warn: (m) => warnings.push(m),
    probe: async (host) => {
      probed.push(host);
      return probes[host] ?? 'https';
    },
    labels: {
      labels: async () => ({}),
      tags: async () => [],
    },
  };
}

test('the catalogue holds the 89 Pike entries and the 11 Queens additions', async () => {
  const c = await loadCatalogue();
  assert.equal(c.entries.length, 100);
  assert.equal(c.entries.filter((e) => e.release === 'pike').length, 89);
});

test('no filter: every Pike image whose template condition holds', async () => {
  const r = await runPrepare(options({ namespace: 'tripleoupstream', tag: 'latest' }), deps());
  // 100 entries less the ODL pair (neutron_driver unset), the OVN metadata agent and rsyslog-base.
  assert.equal(r.plan.images.length, 96);
  assert.equal(r.filter, undefined);
  assertGolden('prepare-no-filter.images.yaml', r.imagesText);
  assertGolden('prepare-no-filter.env.yaml', r.envText ?? '');
});

test('-e docker.yaml with the default roles: the containerized Pike services only', async () => {
  const r = await runPrepare(options({ environmentFiles: [DOCKER_ENV] }), deps());
  const names = r.plan.images.map((i) => i.imagename);
  assert.ok(names.includes('docker.io/tripleoupstream/centos-binary-nova-compute:latest'));
  assert.ok(!names.some((n) => n.includes('heat-all')), 'entries without services drop out under a filter');
  assert.ok(!names.some((n) => n.includes('cinder')), 'Cinder stays on host templates in Pike');
  assert.equal(
    r.plan.params.DockerNovaLibvirtConfigImage,
    'docker.io/tripleoupstream/centos-binary-nova-compute:latest',
  );
  assertGolden('prepare-docker-env.env.yaml', r.envText ?? '');
  // Services retired upstream are OS::Heat::None in our docker.yaml; --explain quotes why.
  for (const [image, service] of [
    ['panko-api', 'PankoApi'],
    ['nova-consoleauth', 'NovaConsoleauth'],
  ]) {
    const d = r.plan.decisions.find((x) => x.imagename.endsWith(`centos-binary-${image}:latest`));
    assert.equal(d?.kept, false, image);
    assert.match(
      d?.reason ?? '',
      new RegExp(
        `${service} mapped to OS::Heat::None \\(.*environments/docker\\.yaml:\\d+: retired upstream`,
      ),
    );
  }
});

test('a service switched off with OS::Heat::None loses its image and parameters', async () => {
  const t = await tmpTree({
    'off.yaml': 'resource_registry:\n  OS::TripleO::Services::Horizon: OS::Heat::None\n',
  });
  try {
    const r = await runPrepare(options({ environmentFiles: [DOCKER_ENV, t.path('off.yaml')] }), deps());
    assert.equal(r.plan.params.DockerHorizonImage, undefined);
    assert.ok(r.plan.params.DockerKeystoneImage);
    const d = r.plan.decisions.find((x) => x.imagename.includes('horizon'));
    assert.deepEqual(d?.kept, false);
  } finally {
    await t.cleanup();
  }
});

test('ComputeCount: 0 drops the compute-only images, keeps those the controller shares', async () => {
  const t = await tmpTree({ 'count.yaml': 'parameter_defaults:\n  ComputeCount: 0\n' });
  try {
    const r = await runPrepare(options({ environmentFiles: [DOCKER_ENV, t.path('count.yaml')] }), deps());
    assert.equal(r.plan.params.DockerNovaComputeImage, undefined);
    assert.equal(r.plan.params.DockerNovaLibvirtImage, undefined);
    assert.ok(r.plan.params.DockerOpenvswitchImage, 'the controller runs the OVS agent too');
    assertGolden('prepare-compute0.images.yaml', r.imagesText);
  } finally {
    await t.cleanup();
  }
});

test('prefix, suffix, tag and namespace forms', async () => {
  const r = await runPrepare(
    options({
      namespace: '192.0.2.1:8787/ns',
      prefix: 'debian-binary',
      suffix: 'dbg',
      tag: '1.2-3',
      includes: ['binary-keystone'],
    }),
    deps(),
  );
  assert.deepEqual(
    r.plan.images.map((i) => i.imagename),
    ['192.0.2.1:8787/ns/debian-binary-keystone-dbg:1.2-3'],
  );
  const v = templateVars({ name_prefix: 'x-', name_suffix: '-y' });
  assert.equal(v.name_prefix, 'x-');
  assert.equal(v.name_suffix, '-y');
  const ceph = await runPrepare(
    options({ set: ['ceph_namespace=127.0.0.1:5000/ceph', 'ceph_tag=v9'], includes: ['ceph'] }),
    deps(),
  );
  assert.deepEqual(
    ceph.plan.images.map((i) => i.imagename),
    ['127.0.0.1:5000/ceph/daemon:v9'],
  );
});

test('includes keep only matches; excludes drop matches; include wins over exclude', async () => {
  const inc = await runPrepare(options({ includes: ['nova-(api|compute)'] }), deps());
  assert.deepEqual(
    inc.plan.images.map((i) => i.imagename.replace(/.*centos-binary-/, '')),
    ['nova-api:latest', 'nova-compute-ironic:latest', 'nova-compute:latest'],
  );
  const exc = await runPrepare(options({ excludes: ['nova', 'neutron'] }), deps());
  assert.ok(!exc.plan.images.some((i) => /nova|neutron/.test(i.imagename)));
  assert.equal(exc.plan.images.length, 96 - 19);
  const both = deps();
  const r = await runPrepare(options({ includes: ['binary-keystone'], excludes: ['keystone'] }), both);
  assert.equal(r.plan.images.length, 1);
  assert.match(both.warnings[0] ?? '', /--exclude is ignored/);
});

test('--push-destination points the env at the destination and lists it when it is insecure', async () => {
  const d = deps({ '192.0.2.1:8787': 'http' });
  const r = await runPrepare(
    options({
      environmentFiles: [DOCKER_ENV],
      pushDestination: '192.0.2.1:8787',
      includes: ['binary-keystone'],
    }),
    d,
  );
  assert.equal(
    r.plan.params.DockerKeystoneImage,
    '192.0.2.1:8787/tripleoupstream/centos-binary-keystone:latest',
  );
  assert.deepEqual(r.insecureRegistries, ['192.0.2.1:8787']);
  assert.deepEqual(d.probed, ['192.0.2.1:8787'], 'docker.io is known secure and never probed');
  assertGolden('prepare-push.env.yaml', r.envText ?? '');
  assertGolden('prepare-push.images.yaml', r.imagesText);
  const off = await runPrepare(
    options({ pushDestination: '192.0.2.1:8787', includes: ['binary-keystone'], detectInsecure: false }),
    deps({ '192.0.2.1:8787': 'http' }),
  );
  assert.deepEqual(off.insecureRegistries, []);
});

test('an unreachable registry is reported, not guessed', async () => {
  const d = deps({ '192.0.2.9:8787': 'unreachable' });
  const r = await runPrepare(options({ namespace: '192.0.2.9:8787/x', includes: ['binary-keystone'] }), d);
  assert.deepEqual(r.insecureRegistries, []);
  assert.match(d.warnings[0] ?? '', /could not reach registry 192.0.2.9:8787/);
});

test('--tag-from-label renders the label template and checks the tag exists', async () => {
  const d = deps();
  d.labels = {
    labels: async (name): Promise<Record<string, string>> =>
      name.includes('keystone') ? { version: '12.0', release: '3' } : {},
    tags: async () => ['latest', '12.0-3'],
  };
  const r = await runPrepare(
    options({ includes: ['binary-keystone', 'glance-api'], tagFromLabel: '{version}-{release}' }),
    d,
  );
  assert.deepEqual(
    r.plan.images.map((i) => i.imagename),
    [
      'docker.io/tripleoupstream/centos-binary-glance-api:latest',
      'docker.io/tripleoupstream/centos-binary-keystone:12.0-3',
    ],
  );
  assert.match(d.warnings.join('\n'), /glance-api:latest: no label/);
  d.labels.tags = async () => ['latest'];
  await assert.rejects(
    runPrepare(options({ includes: ['binary-keystone'], tagFromLabel: '{version}-{release}' }), d),
    /keystone:latest: labels give tag "12.0-3", which the repository does not have/,
  );
});

test('planPrepare is pure: the same input gives the same plan', async () => {
  const catalogue = await loadCatalogue();
  const input = { catalogue, vars: templateVars({}), filter: undefined, includes: [], excludes: [] };
  assert.deepEqual(planPrepare(input), planPrepare(input));
  assert.equal(withTag('127.0.0.1:5000/a/b:1', '2'), '127.0.0.1:5000/a/b:2');
  assert.equal(withTag('127.0.0.1:5000/a/b', '2'), '127.0.0.1:5000/a/b:2');
});

test('bad input: --set, regexes and image names that do not parse', async () => {
  await assert.rejects(runPrepare(options({ set: ['novalue'] }), deps()), { code: 'SET_INVALID' });
  await assert.rejects(runPrepare(options({ excludes: ['(['] }), deps()), { code: 'REGEX_INVALID' });
  await assert.rejects(runPrepare(options({ namespace: 'Bad Namespace!' }), deps()), {
    code: 'REFERENCE_INVALID',
  });
  await assert.rejects(runPrepare(options({ set: ['x=1'], templateFile: '/nonexistent.yaml' }), deps()), {
    code: 'FILE_NOT_FOUND',
  });
});

test('a user catalogue in the same shape', async () => {
  const t = await tmpTree({
    'cat.yaml':
      'container_images_template:\n- imagename: "{{namespace}}/site-agent:{{tag}}"\n  params: [DockerSiteAgentImage]\n  services: [OS::TripleO::Services::SiteAgent]\n',
    'bad.yaml': 'container_images_template:\n- params: [X]\n',
  });
  try {
    const r = await runPrepare(
      options({ templateFile: t.path('cat.yaml'), namespace: 'example.com/site' }),
      deps(),
    );
    assert.deepEqual(r.plan.params, { DockerSiteAgentImage: 'example.com/site/site-agent:latest' });
    await assert.rejects(
      runPrepare(options({ templateFile: t.path('bad.yaml') }), deps()),
      /bad.yaml:2: catalogue entry #1 field imagename/,
    );
  } finally {
    await t.cleanup();
  }
});
