import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../../src/image-build/apt.js';
import { aptError } from '../../src/image-build/builder.js';
import { cacheKey, stableJson } from '../../src/image-build/cache-key.js';
import { APT_LISTS_MOUNT, renderContainerfile } from '../../src/image-build/containerfile.js';
import { versionLabels, versionTag } from '../../src/image-build/debian-version.js';
import { imageLabels, planKeys, repoNames, withoutRegistry } from '../../src/image-build/keys.js';
import { loadRecipes, type Recipe } from '../../src/image-build/recipes.js';
import { isValidTag } from '../../src/oci/reference.js';

const recipe = (over: Partial<Recipe> = {}): Recipe => ({
  name: 'x',
  parent: 'base',
  packages: ['pkg'],
  files: {},
  remove: [],
  abstract: false,
  serves: undefined,
  ...over,
});

const inputs = {
  parentKey: 'p',
  files: { 'a.sh': '755:aa' },
  snapshot: 's',
  versions: { pkg: '1.0-1' },
  global: {},
};

test('cache keys ignore key order but change with every input', () => {
  assert.equal(stableJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  const k = cacheKey({ recipe: recipe(), ...inputs });
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(k, cacheKey({ recipe: recipe(), ...inputs }));
  const variants = [
    cacheKey({ recipe: recipe({ packages: ['pkg', 'other'] }), ...inputs }),
    cacheKey({ recipe: recipe(), ...inputs, parentKey: 'q' }),
    cacheKey({ recipe: recipe(), ...inputs, files: { 'a.sh': '644:aa' } }),
    cacheKey({ recipe: recipe(), ...inputs, snapshot: 't' }),
    cacheKey({ recipe: recipe(), ...inputs, versions: { pkg: '1.0-2' } }),
    cacheKey({ recipe: recipe({ remove: ['/x'] }), ...inputs }),
  ];
  for (const v of variants) assert.notEqual(v, k);
  assert.equal(new Set(variants).size, variants.length);
});

test('a changed parent re-keys the whole subtree, and only it', async () => {
  const r = await loadRecipes();
  const selected = [...r.images.values()].filter((i) =>
    ['base', 'openstack-base', 'nova-base', 'nova-api', 'memcached'].includes(i.name),
  );
  const ctx = { snapshot: 's', global: {}, fileHashes: new Map(), versions: new Map([['nova-common', '1']]) };
  const a = new Map(planKeys(r, selected, ctx).map((p) => [p.recipe.name, p.key]));
  const b = new Map(
    planKeys(r, selected, { ...ctx, versions: new Map([['nova-common', '2']]) }).map((p) => [
      p.recipe.name,
      p.key,
    ]),
  );
  assert.equal(a.get('base'), b.get('base'));
  assert.equal(a.get('memcached'), b.get('memcached'));
  assert.notEqual(a.get('nova-base'), b.get('nova-base'));
  assert.notEqual(a.get('nova-api'), b.get('nova-api'));
});

test('Debian versions become tag-safe version/release labels', () => {
  assert.deepEqual(versionLabels('2:22.0.2-0+deb12u6'), { version: '22.0.2', release: '0_deb12u6' });
  assert.deepEqual(versionLabels('2:26.2.2-1~deb12u5'), { version: '26.2.2', release: '1.deb12u5' });
  assert.deepEqual(versionLabels('12.4+deb12u15'), { version: '12.4_deb12u15', release: '0' });
  assert.deepEqual(versionLabels('1:2.3-4-5'), { version: '2.3-4', release: '5' });
  for (const v of ['2:22.0.2-0+deb12u6', '1:7.2+dfsg-7+deb12u18+b3', '5:7.0.15-1~deb12u10']) {
    assert.ok(isValidTag(versionTag(v)), versionTag(v));
  }
});

test('labels carry version, release, OCI keys and the build key; healthcheck is always set', async () => {
  const r = await loadRecipes();
  const [, , p] = planKeys(
    r,
    [r.images.get('base')!, r.images.get('openstack-base')!, r.images.get('keystone')!],
    {
      snapshot: 's',
      global: {},
      fileHashes: new Map(),
      versions: new Map([['keystone', '2:22.0.2-0+deb12u6']]),
    },
  );
  const l = imageLabels(p!);
  assert.equal(l.version, '22.0.2');
  assert.equal(l.release, '0_deb12u6');
  assert.equal(l['org.opencontainers.image.version'], '2:22.0.2-0+deb12u6');
  assert.equal(l['org.overcloud.build-key'], p!.key);
  assert.equal(l['org.overcloud.user'], 'keystone');
  assert.match(l['org.overcloud.healthcheck'] ?? '', /^healthcheck_curl /);
  const names = new Set(['keystone']);
  assert.deepEqual(repoNames(p!, names, { namespace: 'overcloud', prefix: 'debian-binary-' }), [
    'localhost/overcloud/debian-binary-keystone',
  ]);
  assert.deepEqual(repoNames(p!, names, { namespace: '192.168.24.1:8787/tripleo', prefix: 'p-' }), [
    '192.168.24.1:8787/tripleo/p-keystone',
  ]);
  assert.equal(withoutRegistry('localhost/overcloud/x'), 'overcloud/x');
  assert.equal(withoutRegistry('overcloud/x'), 'overcloud/x');
});

test('the Containerfile installs from the mounted lists and removes build-time state in the same RUN', () => {
  const text = renderContainerfile({
    recipe: recipe({ packages: ['rabbitmq-server'], remove: ['/var/lib/rabbitmq/.erlang.cookie'] }),
    from: 'abc123',
    labels: { version: '3.10.8', release: '1_deb12u1' },
    user: 'rabbitmq',
    hasFiles: true,
    hygiene: { cleanup: ['/var/lib/apt/lists/*'], truncate: ['/etc/machine-id'] },
    isRoot: false,
  });
  const lines = text.trim().split('\n');
  assert.equal(lines[0], 'FROM abc123');
  assert.ok(lines.includes('ENV KOLLA_USER=rabbitmq'));
  assert.ok(lines.includes('COPY rootfs/ /'));
  const run = lines.filter((l) => l.startsWith('RUN '));
  assert.equal(run.length, 1);
  assert.match(
    run[0]!,
    new RegExp(
      `Dir::State::Lists=${APT_LISTS_MOUNT}.* install --no-install-recommends rabbitmq-server; rm -rf /var/lib/rabbitmq/.erlang.cookie /var/lib/apt/lists/\\*`,
    ),
  );
  assert.match(text, /LABEL "release"="1_deb12u1" \\\n {6}"version"="3.10.8"/);
  assert.doesNotMatch(text, /ENTRYPOINT/);
  const root = renderContainerfile({
    recipe: recipe({ packages: [], parent: undefined }),
    from: 'r',
    labels: {},
    user: 'root',
    hasFiles: true,
    hygiene: { cleanup: [], truncate: [] },
    isRoot: true,
  });
  assert.match(root, /ENTRYPOINT \["dumb-init", "--single-child", "--"\]\nCMD \["kolla_start"\]/);
  assert.doesNotMatch(root, /apt-get/);
});

test('apt-cache policy output gives candidates; (none) and unknown names give none', () => {
  const text =
    'keystone:\n  Installed: (none)\n  Candidate: 2:22.0.2-0+deb12u6\n  Version table:\n' +
    'nova-novncproxy:\n  Installed: (none)\n  Candidate: (none)\n';
  const m = parsePolicy(text);
  assert.equal(m.get('keystone'), '2:22.0.2-0+deb12u6');
  assert.equal(m.has('nova-novncproxy'), true);
  assert.equal(m.get('nova-novncproxy'), undefined);
});

test("aptError finds apt's own error lines in a build log", () => {
  const log =
    'STEP 5/5: RUN ...\nReading package lists...\nE: Unable to locate package nosuch\nError: building at STEP\n';
  assert.equal(aptError(log), 'E: Unable to locate package nosuch');
  assert.equal(aptError('all fine\n'), undefined);
  const conflict =
    'The following packages have unmet dependencies:\n postfix : Conflicts: mail-transport-agent\n' +
    'E: Unable to correct problems, you have held broken packages.\n';
  assert.equal(
    aptError(conflict),
    'E: Unable to correct problems, you have held broken packages. | postfix : Conflicts: mail-transport-agent',
  );
});
