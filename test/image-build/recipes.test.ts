import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ancestors, loadRecipes, mainPackage, parseRecipes, runUser } from '../../src/image-build/recipes.js';
import { parseYaml } from '../../src/util/yaml.js';

const HEAD = 'bootstrap: {suite: bookworm, variant: minbase}\n';

function parse(images: string, exists: (rel: string) => boolean = () => true) {
  return parseRecipes(parseYaml(`${HEAD}images:\n${images}`, 't.yaml'), exists);
}

test('the shipped recipes parse: one root, every parent known', async () => {
  const r = await loadRecipes();
  assert.equal(r.root, 'base');
  for (const img of r.images.values()) {
    if (img.name !== 'base') assert.ok(r.images.has(img.parent ?? ''), `${img.name} has a known parent`);
  }
  assert.deepEqual(ancestors(r.images, 'nova-api'), ['nova-base', 'openstack-base', 'base']);
  assert.equal(runUser(r.images, 'nova-api'), 'nova', 'user is inherited from nova-base');
  assert.equal(runUser(r.images, 'haproxy'), 'root');
  assert.equal(mainPackage(r.images, 'nova-api'), 'nova-api');
  assert.equal(mainPackage(r.images, 'base'), 'base-files');
});

test('a recipe without packages takes its version from its parent', () => {
  const r = parse('  base: {main: base-files}\n  a: {parent: base, packages: [x1]}\n  b: {parent: a}\n');
  assert.equal(mainPackage(r.images, 'b'), 'x1');
});

test('unknown parent, cycles, two roots, bad names and missing files are RECIPE_INVALID', () => {
  const bad: [string, RegExp][] = [
    ['  base: {}\n  a: {parent: nope}\n', /unknown parent "nope"/],
    ['  base: {}\n  a: {parent: b}\n  b: {parent: a}\n', /its own ancestor/],
    ['  base: {}\n  other: {}\n', /exactly one image must have no parent.*base, other/],
    ['  base: {packages: ["Bad Name"]}\n', /Debian package name/],
    ['  base: {remove: [relative/path]}\n', /absolute path/],
    ['  base: {surprise: 1}\n', /surprise|Unrecognized/i],
  ];
  for (const [yaml, re] of bad) {
    assert.throws(
      () => parse(yaml),
      (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'RECIPE_INVALID');
        assert.match((e as Error).message, re);
        return true;
      },
    );
  }
  assert.throws(() => parse('  base: {files: {x.sh: /x}}\n', () => false), /no template file "x.sh"/);
  assert.throws(() => parse('  base: {files: {../x.sh: /x}}\n'), /no template file/);
});
