import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { scratchDir } from '../support/tmp.js';
import { type FixtureSet, makeFixtureSet, writeImagesFile } from '../support/upload-fixtures.js';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'overcloud');
let src: RunningRegistry;
let dst: RunningRegistry;
let slow: FaultProxy;
let set: FixtureSet;
let dir: string;

before(async () => {
  [src, dst] = await Promise.all([startDistribution(), startDistribution()]);
  // Slow the destination down so the kill lands mid-run.
  slow = await startFaultProxy(dst.url, (r) => (r.method === 'PUT' ? { delayMs: 150 } : undefined));
  set = await makeFixtureSet(src.url, src.host, { count: 4, layerSize: 1024 * 1024 });
  dir = scratchDir('kill');
});
after(async () => {
  await slow.close();
  await Promise.all([src.stop(), dst.stop()]);
});

function upload(
  file: string,
  killAfterCopies?: number,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // bin/overcloud execs node, so the SIGKILL lands on the upload process itself.
    const child = spawn(
      BIN,
      ['container', 'image', 'upload', '--config-file', file, '--parallel', '1', '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    if (killAfterCopies !== undefined) {
      const timer = setInterval(() => {
        // Blob uploads the registry has completed (201), whether or not the client heard it yet.
        const puts = slow.log.filter(
          (r) => r.method === 'PUT' && r.url.includes('/blobs/uploads/') && r.status === 201,
        ).length;
        if (puts >= killAfterCopies) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('exit', () => clearInterval(timer));
    }
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test('killed with SIGKILL mid-run, the re-run completes without copying anything twice', async () => {
  const killedFile = await writeImagesFile(dir, set.names, slow.host);
  const killed = await upload(killedFile, 3);
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const rerun = await upload(await writeImagesFile(join(dir), set.names, dst.host));
  assert.equal(rerun.code, 0, rerun.stderr);
  const summary = JSON.parse(rerun.stdout) as {
    images_failed: number;
    blobs_skipped: number;
    blobs_transferred: number;
    images_copied: number;
    images_present: number;
  };
  assert.equal(summary.images_failed, 0);
  assert.ok(summary.blobs_skipped > 0, 'blobs copied before the kill were reused');
  assert.ok(summary.blobs_transferred < set.blobs.size, 'not everything was copied again');
  // Every image is served intact: manifest digests as at the source, every blob hashes right.
  for (const [ref, digest] of set.expected) {
    const [repo, tag] = ref.split(':') as [string, string];
    const res = await fetch(`${dst.url}/v2/${repo}/manifests/${tag}`, {
      headers: {
        accept:
          'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      },
    });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(`sha256:${createHash('sha256').update(body).digest('hex')}`, digest, ref);
    const m = JSON.parse(body.toString()) as { layers?: { digest: string }[]; config?: { digest: string } };
    for (const d of [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter(
      (x): x is string => !!x,
    )) {
      const blob = Buffer.from(await (await fetch(`${dst.url}/v2/${repo}/blobs/${d}`)).arrayBuffer());
      assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, d);
    }
  }
});
