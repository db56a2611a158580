import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningRegistry, startDistribution } from './distribution.js';
import { run } from './exec.js';
import { busyboxLayer, makeImage, makeIndex, pushImage, pushIndex, randomLayer } from './images.js';

let reg: RunningRegistry;
before(async () => {
  reg = await startDistribution();
});
after(async () => {
  await reg.stop();
});

test('fixture images are accepted by distribution and read back by skopeo', async () => {
  const img = makeImage({
    layers: [await busyboxLayer(), await randomLayer(1024)],
    labels: { version: '1.0' },
  });
  await pushImage(reg.url, 'fixtures/busybox', 'v1', img);
  const { stdout } = await run('skopeo', [
    'inspect',
    '--tls-verify=false',
    `docker://${reg.host}/fixtures/busybox:v1`,
  ]);
  const info = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
  assert.equal(info.Digest, img.manifestDigest);
  assert.equal(info.Labels.version, '1.0');
});

test('a two-platform OCI index pushes and inspects', async () => {
  const base = await busyboxLayer();
  const amd = makeImage({ format: 'oci', layers: [base], architecture: 'amd64' });
  const arm = makeImage({ format: 'oci', layers: [base, await randomLayer(100)], architecture: 'arm64' });
  const idx = makeIndex([
    { image: amd, architecture: 'amd64' },
    { image: arm, architecture: 'arm64' },
  ]);
  await pushIndex(reg.url, 'fixtures/multi', 'latest', idx);
  const { stdout } = await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${reg.host}/fixtures/multi:latest`,
  ]);
  assert.equal((JSON.parse(stdout) as { manifests: unknown[] }).manifests.length, 2);
});
