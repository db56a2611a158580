import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { runStatus, type StatusResult } from '../support/exec.js';
import { busyboxLayer, makeImage, pushImage } from '../support/images.js';
import { type TmpTree, tmpTree } from '../support/tmp.js';

const BIN = join(packageRoot(), 'bin', 'overcloud');
const DOCKER_ENV = join(packageRoot(), 'templates', 'environments', 'docker.yaml');

function prepare(args: string[], cwd: string): Promise<StatusResult> {
  return runStatus(BIN, ['container', 'image', 'prepare', ...args], {
    cwd,
    env: { ...process.env, HOME: cwd },
  });
}

let t: TmpTree;
let reg: RunningRegistry;
before(async () => {
  t = await tmpTree({
    'malformed.yaml': 'parameter_defaults:\n  ComputeCount: [1\n',
    'unknown-key.yaml': 'resource_registry: {}\nparameters_defaults: {}\n',
    'no-roles.yaml': '[]\n',
  });
  reg = await startDistribution();
});
after(async () => {
  await reg.stop();
  await t.cleanup();
});

test('--push-destination to a real plain-HTTP registry: env points at it and lists it insecure', async () => {
  const r = await prepare(
    [
      '-e',
      DOCKER_ENV,
      '--namespace',
      'tripleoupstream',
      '--push-destination',
      reg.host,
      '--output-env-file',
      'docker_registry.yaml',
      '--output-images-file',
      'overcloud_containers.yaml',
    ],
    t.dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const env = await readFile(t.path('docker_registry.yaml'), 'utf8');
  assert.match(env, /^# Generated with the following on \d{4}-/);
  assert.match(
    env,
    new RegExp(`DockerKeystoneImage: ${reg.host}/tripleoupstream/centos-binary-keystone:latest`),
  );
  assert.match(env, new RegExp(`DockerInsecureRegistryAddress:\\n  - ${reg.host}\\n`));
  const images = await readFile(t.path('overcloud_containers.yaml'), 'utf8');
  assert.match(
    images,
    new RegExp(
      `- imagename: tripleoupstream/centos-binary-keystone:latest\\n  push_destination: ${reg.host}\\n`,
    ),
  );
  assert.equal(r.stdout, images, 'stdout carries the images list, as TripleO printed it');
});

test('--tag-from-label reads labels from the real registry and checks the tag exists', async () => {
  const img = makeImage({ layers: [await busyboxLayer()], labels: { version: '12.0', release: '3.el7' } });
  await pushImage(reg.url, 'tripleoupstream/centos-binary-keystone', 'latest', img);
  await pushImage(reg.url, 'tripleoupstream/centos-binary-keystone', '12.0-3.el7', img);
  const ns = ['--namespace', `${reg.host}/tripleoupstream`, '--include', 'binary-keystone'];
  const ok = await prepare([...ns, '--tag-from-label', '{version}-{release}'], t.dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    ok.stdout,
    `container_images:\n- imagename: ${reg.host}/tripleoupstream/centos-binary-keystone:12.0-3.el7\n`,
  );
  const missing = await prepare([...ns, '--tag-from-label', '{release}-{version}'], t.dir);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /labels give tag "3.el7-12.0", which the repository does not have/);
});

test('the Pike option names still work', async () => {
  const r = await prepare(
    ['--images-file', 'pike-images.yaml', '--env-file', 'pike-env.yaml', '-q', '--no-insecure-detection'],
    t.dir,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(
    await readFile(t.path('pike-env.yaml'), 'utf8'),
    /DockerNovaApiImage: docker.io\/tripleoupstream\/centos-binary-nova-api:latest/,
  );
});

test('json on stdout', async () => {
  const r = await prepare(['-f', 'json', '--include', 'binary-keystone'], t.dir);
  assert.deepEqual(JSON.parse(r.stdout), {
    container_images: [{ imagename: 'docker.io/tripleoupstream/centos-binary-keystone:latest' }],
  });
});

const badInputs: [string, string[], RegExp][] = [
  ['malformed YAML', ['-e', 'malformed.yaml'], /malformed.yaml:\d+:\d+: malformed YAML/],
  [
    'an unknown top-level key',
    ['-e', 'unknown-key.yaml'],
    /unknown-key.yaml:2: unknown top-level key "parameters_defaults"/,
  ],
  [
    'a roles file without roles',
    ['-r', 'no-roles.yaml'],
    /no-roles.yaml: a roles file must be a non-empty list of roles/,
  ],
  ['a malformed --set', ['--set', 'no_equals_sign'], /malformed --set "no_equals_sign"/],
  ['an invalid regex', ['--exclude', 'nova(['], /invalid regular expression for --exclude "nova\(\["/],
  [
    'an image reference that does not parse',
    ['--namespace', 'UPPER/Case Space'],
    /not a valid image reference/,
  ],
  ['a missing environment file', ['-e', 'nope.yaml'], /cannot read environment file nope.yaml: no such file/],
];

for (const [what, args, message] of badInputs) {
  test(`bad input, ${what}: exit 2, one clear line, no file written`, async () => {
    const before = await readdir(t.dir);
    const r = await prepare(
      [...args, '--output-env-file', 'bad-env.yaml', '--output-images-file', 'bad-images.yaml'],
      t.dir,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /^overcloud: error: /);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.equal(r.stdout, '');
    assert.deepEqual(await readdir(t.dir), before, 'nothing written');
  });
}
