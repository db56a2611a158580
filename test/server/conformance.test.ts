/**
 * The OCI distribution-spec conformance suite itself (all four workflows, deletes enabled) against
 * our server: 0 failures. The suite is built offline from shared/tools/oci-conformance (beside the checkout, or /work/shared) with
 * Debian's Go (golang-go, installed by its build.sh when missing) into a cache outside the repo,
 * keyed by the hash of the tool's source, so it is built once per version. Skipped, with the
 * reason, only when the tool is absent or Go cannot be installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkStore } from '../../src/server/index.js';
import { packageRoot } from '../../src/util/paths.js';
import { scratchDir } from '../support/tmp.js';
import { startOurs } from './peers.js';

/** The tool: $OCI_CONFORMANCE_TOOL, else shared/ beside the checkout (as CI lays it), else /work/shared. */
const TOOL =
  process.env.OCI_CONFORMANCE_TOOL ??
  [
    join(packageRoot(), '..', 'shared', 'tools', 'oci-conformance'),
    '/work/shared/tools/oci-conformance',
  ].find((d) => existsSync(join(d, 'src.tar.gz'))) ??
  '/work/shared/tools/oci-conformance';
const CACHE = process.env.OCI_CONFORMANCE_CACHE ?? '/var/cache/overcloud/oci-conformance';

/** buildSuite builds (or finds cached) the suite binary; returns its path, or why it cannot. */
function buildSuite(): { bin: string } | { skip: string } {
  const tarball = join(TOOL, 'src.tar.gz');
  if (!existsSync(tarball)) return { skip: `conformance tool not found at ${TOOL}` };
  const key = createHash('sha256').update(readFileSync(tarball)).digest('hex').slice(0, 16);
  const r = spawnSync('bash', [join(TOOL, 'build.sh')], {
    env: { ...process.env, OCI_CONFORMANCE_DIR: join(CACHE, key) },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    const hasGo = spawnSync('sh', ['-c', 'command -v go']).status === 0;
    const why = `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ');
    if (!hasGo) return { skip: `Go is not installed and could not be installed with apt (${why})` };
    throw new Error(`building the conformance suite failed: ${why}`);
  }
  return { bin: r.stdout.trim().split('\n').at(-1) ?? '' };
}

test('the OCI distribution-spec conformance suite passes with 0 failures (deletes enabled)', async (t) => {
  const built = buildSuite();
  if ('skip' in built) {
    t.skip(built.skip);
    return;
  }
  const peer = await startOurs({ enableDelete: true });
  try {
    const out = scratchDir('oci-conformance');
    const key = built.bin.split('/').at(-2) ?? '';
    // Spawned, not spawnSync: the server under test runs in this process and must keep answering.
    const r = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn('bash', [join(TOOL, 'run.sh'), peer.url, 'conformance/test', out], {
        env: { ...process.env, OCI_CONFORMANCE_DIR: join(CACHE, key), OCI_AUTOMATIC_CROSSMOUNT: '1' },
      });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.resume();
      child.on('close', (status) => resolve({ status, stdout }));
    });
    const last = r.stdout.trim().split('\n').at(-1) ?? '';
    const m = /conformance passed=(\d+) failed=(\d+) skipped=(\d+)/.exec(last);
    assert.ok(m, `no result line from run.sh: ${r.stdout.slice(-2000)}`);
    assert.equal(Number(m[2]), 0, `failing tests:\n${r.stdout}\n(see ${out}/output.log)`);
    assert.ok(Number(m[1]) >= 70, `only ${m[1]} tests passed`);
    assert.equal(r.status, 0);
    // What the suite left behind is a consistent store.
    assert.deepEqual((await checkStore(peer.root, { verifyContent: true })).problems, []);
  } finally {
    await peer.stop();
  }
});
