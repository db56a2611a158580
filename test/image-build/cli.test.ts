// The `overcloud image build` command line: --list output and usage errors (exit 2), through bin/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/util/paths.js';
import { tmpTree } from '../support/tmp.js';

const execFileP = promisify(execFile);
const BIN = join(packageRoot(), 'bin', 'overcloud');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(BIN, ['image', 'build', ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('--list --include prints the selected images with their parents, under the prefix', async () => {
  const r = await cli(['--list', '--include', '^heat-api$', '--prefix', 'x-']);
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(names, ['x-base', 'x-openstack-base', 'x-heat-base', 'x-heat-api']);
  assert.match(r.stdout, /^x-heat-api {2}FROM heat-base {2}packages: heat-api {2}serves: heat-api$/m);
});

test('--list --all names the catalogue entries that cannot be built', async () => {
  const r = await cli(['--list', '--all']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^mongodb {2}no package: /m);
  assert.match(r.stdout, /^debian-binary-nova-compute /m);
});

test('usage errors exit 2 with a message', async () => {
  const cases: [string[], RegExp][] = [
    [['--all'], /--all goes with --list/],
    [['--parallel', '0', '--list'], /--parallel must be a positive integer/],
    [['--list', '--include', '('], /not a valid regular expression/],
    [['--list', '--include', '^nothing$'], /no image matches/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('a broken recipe file is RECIPE_INVALID (exit 2), naming the file and line', async () => {
  const t = await tmpTree({
    'images.yaml':
      'bootstrap: {suite: bookworm, variant: minbase}\nimages:\n  base: {}\n  a:\n    parent: missing\n',
  });
  try {
    const r = await cli(['--list', '--recipes', t.path('images.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /images\.yaml:5.*unknown parent "missing"/);
  } finally {
    await t.cleanup();
  }
});

// kolla-build's spelling: the seed's command line with only the base changed.
const SEED = [
  '--base',
  'debian',
  '--type',
  'binary',
  '--namespace',
  'tripleoupstream',
  '--registry',
  '127.0.0.1:8787',
  '--tag',
  'latest',
  '--template-override',
  '/usr/share/tripleo-common/container-images/tripleo_kolla_template_overrides.j2',
  '--push',
];

const indented = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => l.trim());

test("kolla's command line pushes the names the seed's second prepare points at", async () => {
  const r = await cli([...SEED, '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  // TripleO's overrides file is accepted (it need not exist here), with the reason it changes nothing.
  assert.match(r.stderr, /--template-override .*tripleo_kolla_template_overrides\.j2: not applied: /);
  const pushed = new Set(indented(r.stdout.slice(r.stdout.indexOf('would push to 127.0.0.1:8787'))));
  assert.ok(pushed.has('127.0.0.1:8787/tripleoupstream/debian-binary-nova-api:latest'));
  const { stdout } = await execFileP(BIN, [
    'container',
    'image',
    'prepare',
    '--namespace',
    '127.0.0.1:8787/tripleoupstream',
    '--prefix',
    'debian-binary-',
    '--tag',
    'latest',
    '--no-insecure-detection',
  ]);
  // The Ceph daemon comes from ceph_namespace, outside kolla's tree.
  const prepared = [...stdout.matchAll(/imagename: (\S+)/g)]
    .map((m) => m[1] as string)
    .filter((n) => n.startsWith('127.0.0.1:8787/tripleoupstream/'));
  const all = await cli(['--list', '--all']);
  const unbuildable = new Set(
    all.stdout
      .slice(all.stdout.indexOf('catalogue entries no image serves:'))
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]),
  );
  const missing = prepared.filter((n) => !pushed.has(n));
  const served = prepared.filter((n) => pushed.has(n));
  assert.ok(served.length > 20, `prepare's names that the build pushes: ${served.length}`);
  // Every image prepare names is pushed under that very name, unless no recipe can build it.
  for (const n of missing) {
    const short = n.replace(/^.*\/debian-binary-/, '').replace(/:latest$/, '');
    assert.ok(unbuildable.has(short), `${n} is neither pushed nor explained`);
  }
});

test("kolla's image regexes, --threads, --list-images and --list-dependencies", async () => {
  const imgs = await cli(['--list-images', '^heat-a', 'keystone$', '--threads', '2']);
  assert.equal(imgs.code, 0, imgs.stderr);
  assert.equal(
    imgs.stdout,
    '1 : base\n2 : openstack-base\n3 : keystone\n4 : heat-base\n5 : heat-api\n6 : heat-api-cfn\n',
  );
  const deps = await cli(['--list-dependencies', '^heat-api$']);
  assert.equal(deps.code, 0, deps.stderr);
  assert.deepEqual(JSON.parse(deps.stdout), {
    base: [{ 'openstack-base': [{ 'heat-base': ['heat-api'] }] }],
  });
  // kolla's bare --push takes no value: a word after it is an image regex.
  const push = await cli(['--registry', '127.0.0.1:8787', '--push', '^heat-api$', '--dry-run']);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /^would build 4 image\(s\)/);
  assert.match(push.stdout, /^ {2}127\.0\.0\.1:8787\/overcloud\/debian-binary-heat-api:latest$/m);
});

test("kolla's flags that ask for what is not built here are usage errors saying why", async () => {
  const cases: [string[], RegExp][] = [
    [['--base', 'centos', '--list-images'], /--base centos: this build makes debian images only/],
    [
      ['--type', 'source', '--list-images'],
      /--type source: this build makes binary images only.*source images/,
    ],
    [
      ['--template-override', '/tmp/mine.j2', '--list-images'],
      /--template-override \/tmp\/mine\.j2: kolla template overrides are Jinja2 blocks/,
    ],
    [['--push', '--dry-run'], /--push needs a registry/],
    [['--registry', 'a:5000', '--push', 'b:5000', '--dry-run'], /name two registries/],
    [['--include', 'nova', '--list-images', 'heat'], /either --include or image name regexes/],
    [
      ['--threads', '2', '--parallel', '3', '--list-images'],
      /--threads 2 and --parallel 3 say different things/,
    ],
    [['--threads', 'x', '--list-images'], /--threads must be a positive integer/],
    [
      ['--base', 'debian', '--prefix', 'centos-binary-', '--list-images'],
      /--prefix centos-binary- contradicts --base\/--type/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});
