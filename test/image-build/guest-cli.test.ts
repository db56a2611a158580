// The `overcloud image build-guest` and `detect-virt-type` command lines: usage errors exit 2 before
// anything is fetched or booted, and a bad recipe names its file and line (through bin/).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/util/paths.js';

const execFileP = promisify(execFile);
const BIN = join(packageRoot(), 'bin', 'overcloud');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(BIN, ['image', ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('build-guest --format must be raw or qcow2 (exit 2)', async () => {
  const r = await cli(['build-guest', '--format', 'vmdk']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format must be raw or qcow2, not "vmdk"/);
});

test('detect-virt-type --timeout must be a positive number (exit 2)', async () => {
  const r = await cli(['detect-virt-type', '--timeout', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--timeout must be a positive number of seconds/);
});

test('build-guest with a malformed recipe names the file and line (exit 2), before any download', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'guest-cli-'));
  try {
    const recipe = join(dir, 'guest.yaml');
    await writeFile(recipe, 'name: g\nkernel: [\n');
    const r = await cli(['build-guest', '--recipe', recipe, '--cache-dir', join(dir, 'cache')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${recipe}:\\d+:\\d+: malformed YAML`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
