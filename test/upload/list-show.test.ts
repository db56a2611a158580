/**
 * `overcloud container image list REGISTRY` and `show IMAGE`, through the CLI, against a real
 * distribution 2.8 holding the upload fixture set (Docker schema 2, OCI, a two-platform index).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { runStatus } from '../support/exec.js';
import { type FixtureSet, makeFixtureSet } from '../support/upload-fixtures.js';

const overcloud = join(packageRoot(), 'bin', 'overcloud');
let reg: RunningRegistry;
let set: FixtureSet;

before(async () => {
  reg = await startDistribution();
  set = await makeFixtureSet(reg.url, reg.host, { count: 2 });
});
after(() => reg.stop());

test('list prints every repository:tag the registry holds, as lines and as JSON', async () => {
  const lines = await runStatus(overcloud, ['container', 'image', 'list', reg.host]);
  assert.equal(lines.code, 0, lines.stderr);
  const expected = [...set.expected.keys()].map((k) => `${reg.host}/${k}`).sort();
  assert.deepEqual(lines.stdout.trim().split('\n'), expected);

  const json = await runStatus(overcloud, ['container', 'image', 'list', reg.host, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const byRepo = JSON.parse(json.stdout) as Record<string, string[]>;
  assert.deepEqual(Object.keys(byRepo).sort(), [...set.expected.keys()].map((k) => k.split(':')[0]).sort());
  for (const tags of Object.values(byRepo)) assert.deepEqual(tags, ['current']);
});

test('show gives the digest, layers with sizes, and labels of an image', async () => {
  const repo = 'tripleomaster/centos-binary-svc1';
  const r = await runStatus(overcloud, [
    'container',
    'image',
    'show',
    `${reg.host}/${repo}:current`,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.digest, set.expected.get(`${repo}:current`));
  assert.equal(info.images.length, 1);
  const [img] = info.images;
  assert.equal(img.platform, 'linux/amd64');
  assert.equal(img.layers.length, 3);
  assert.equal(img.layers[2].digest, set.ownLayer.get(repo));
  for (const l of img.layers) assert.equal(l.size, set.blobs.get(l.digest));
  assert.equal(
    img.size,
    img.config.size + img.layers.reduce((s: number, l: { size: number }) => s + l.size, 0),
  );
  assert.deepEqual(img.labels, { name: repo, version: '1' });

  const text = await runStatus(overcloud, ['container', 'image', 'show', `${reg.host}/${repo}:current`]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`Digest: +${info.digest}`));
  assert.match(text.stdout, /Labels:\n {2}name=tripleomaster\/centos-binary-svc1\n {2}version=1/);
});

test('show of a two-platform index lists both platforms; --platform picks one', async () => {
  const ref = `${reg.host}/tripleomaster/centos-binary-multi:current`;
  const all = JSON.parse((await runStatus(overcloud, ['container', 'image', 'show', ref, '--json'])).stdout);
  assert.deepEqual(all.images.map((i: { platform: string }) => i.platform).sort(), [
    'linux/amd64',
    'linux/arm64',
  ]);
  const arm = await runStatus(overcloud, [
    'container',
    'image',
    'show',
    ref,
    '--platform',
    'linux/arm64',
    '--json',
  ]);
  assert.equal(arm.code, 0, arm.stderr);
  const one = JSON.parse(arm.stdout);
  assert.equal(one.images.length, 1);
  assert.equal(one.images[0].labels.arch, 'arm64');
  assert.equal(one.images[0].layers.length, 2);
});

test('show of a missing image or tag is a one-line error naming it, exit status not 0', async () => {
  const r = await runStatus(overcloud, [
    'container',
    'image',
    'show',
    `${reg.host}/tripleomaster/nope:current`,
  ]);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /overcloud: error: .*tripleomaster\/nope/);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
});
