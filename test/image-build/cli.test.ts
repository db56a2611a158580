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
