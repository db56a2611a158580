import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogueNames } from '../../src/image-build/builder.js';
import { buildOrder, coverage, formatList, selectImages, tagNames } from '../../src/image-build/plan.js';
import { loadRecipes } from '../../src/image-build/recipes.js';

test('--include brings the parents, in build order', async () => {
  const r = await loadRecipes();
  const names = selectImages(r, { include: '^(nova-api|memcached)$' }).map((i) => i.name);
  assert.deepEqual(names, ['base', 'openstack-base', 'memcached', 'nova-base', 'nova-api']);
});

test('--exclude drops images but keeps parents that others need', async () => {
  const r = await loadRecipes();
  const names = selectImages(r, { include: '^nova-', exclude: 'compute|libvirt' }).map((i) => i.name);
  assert.ok(names.includes('nova-base') && names.includes('openstack-base') && names.includes('base'));
  assert.ok(!names.some((n) => /compute|libvirt/.test(n)));
});

test('a bad regex is REGEX_INVALID; a filter matching nothing is USAGE', async () => {
  const r = await loadRecipes();
  assert.throws(() => selectImages(r, { include: '(' }), { code: 'REGEX_INVALID' });
  assert.throws(() => selectImages(r, { include: '^nothing-like-this$' }), { code: 'USAGE' });
});

test('build order puts every parent before its children', async () => {
  const r = await loadRecipes();
  const order = buildOrder(r).map((i) => i.name);
  for (const img of r.images.values()) {
    if (img.parent !== undefined) assert.ok(order.indexOf(img.parent) < order.indexOf(img.name), img.name);
  }
});

test('every catalogue entry is served by an image or explained, and no recipe names a missing entry', async () => {
  const r = await loadRecipes();
  const names = await catalogueNames();
  const cov = coverage(r, names);
  assert.deepEqual(cov.unexplained, []);
  assert.deepEqual(cov.unknown, []);
  assert.equal(cov.served.size + cov.unbuildable.size, names.size);
  for (const must of [
    'keystone',
    'glance-api',
    'nova-api',
    'nova-placement-api',
    'nova-compute',
    'nova-libvirt',
    'neutron-server',
    'heat-api',
    'heat-api-cfn',
    'heat-engine',
    'horizon',
    'cinder-api',
    'swift-proxy-server',
    'aodh-api',
    'ceilometer-central',
    'gnocchi-api',
    'mariadb',
    'rabbitmq',
    'memcached',
    'redis',
    'haproxy',
    'iscsid',
    'multipathd',
    'cron',
  ]) {
    assert.ok(cov.served.has(must), `${must} is served`);
  }
  assert.equal(cov.served.get('nova-placement-api'), 'placement-api');
});

test('--list --all prints each image with packages and each unbuildable entry with its reason', async () => {
  const r = await loadRecipes();
  const names = await catalogueNames();
  const text = formatList(r, names, { all: true, prefix: 'debian-binary-' });
  assert.match(
    text,
    /^debian-binary-keystone {2}FROM openstack-base {2}packages: keystone {2}serves: keystone$/m,
  );
  assert.match(text, /^debian-binary-placement-api .*serves: nova-placement-api$/m);
  assert.match(text, /^panko-api {2}no package: /m);
  assert.match(text, /^debian-binary-nova-novncproxy {2}FROM nova-base {2}packages: nova-consoleproxy /m);
  const unbuildable = text.split('catalogue entries no image serves:\n')[1] ?? '';
  assert.equal(unbuildable.trim().split('\n').length, coverage(r, names).unbuildable.size);
});

test('an image is tagged under its own name and every catalogue name it serves', async () => {
  const r = await loadRecipes();
  const names = await catalogueNames();
  assert.deepEqual(tagNames(r.images.get('placement-api')!, names), ['placement-api', 'nova-placement-api']);
  assert.deepEqual(tagNames(r.images.get('ovn-northd')!, names), [
    'ovn-northd',
    'ovn-nb-db-server',
    'ovn-sb-db-server',
  ]);
  assert.deepEqual(tagNames(r.images.get('nova-base')!, names), ['nova-base']);
});
