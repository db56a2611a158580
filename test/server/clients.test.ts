/**
 * Real clients against our server: skopeo copy in and out, inspect, list-tags; podman push, pull and
 * run. Images come from the shared fixtures (a busybox rootfs), pushed into distribution 2.8 first so
 * that `skopeo copy` from it into ours is a true registry-to-registry copy.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { run } from '../support/exec.js';
import {
  busyboxLayer,
  type FixtureImage,
  makeImage,
  makeIndex,
  pushImage,
  pushIndex,
  randomLayer,
} from '../support/images.js';
import { call, type Peer, startOurs } from './peers.js';

let ours: Peer;
let dist: RunningRegistry;
let img: FixtureImage;
let scratch: string;
const NO_TLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];

before(async () => {
  [ours, dist] = await Promise.all([startOurs(), startDistribution()]);
  scratch = await mkdtemp(join(tmpdir(), 'registry-clients-'));
  img = makeImage({
    layers: [await busyboxLayer(), await randomLayer(50_000)],
    cmd: ['/bin/sh', '-c', 'echo served-by-overcloud'],
  });
  await pushImage(dist.url, 'src/busybox', 'v1', img);
});
after(async () => {
  await Promise.all([ours.stop(), dist.stop(), rm(scratch, { recursive: true, force: true })]);
});

test('skopeo copy into ours, inspect, list-tags, and copy back out unchanged', async () => {
  await run('skopeo', [
    'copy',
    ...NO_TLS,
    `docker://${dist.host}/src/busybox:v1`,
    `docker://${ours.host}/tripleo/busybox:v1`,
  ]);
  const info = JSON.parse(
    (await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ours.host}/tripleo/busybox:v1`]))
      .stdout,
  ) as {
    Digest: string;
    Layers: string[];
  };
  assert.equal(info.Digest, img.manifestDigest);
  assert.deepEqual(
    info.Layers,
    img.layers.map((l) => l.digest),
  );
  await run('skopeo', [
    'copy',
    ...NO_TLS,
    `docker://${ours.host}/tripleo/busybox:v1`,
    `docker://${ours.host}/tripleo/busybox:v2`,
  ]);
  const tags = JSON.parse(
    (await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${ours.host}/tripleo/busybox`]))
      .stdout,
  ) as {
    Tags: string[];
  };
  assert.deepEqual(tags.Tags.sort(), ['v1', 'v2']);
  await run('skopeo', [
    'copy',
    ...NO_TLS,
    `docker://${ours.host}/tripleo/busybox:v1`,
    `docker://${dist.host}/back/busybox:v1`,
  ]);
  const back = await call(dist, 'GET', '/v2/back/busybox/manifests/v1', {
    headers: { accept: img.mediaType },
  });
  assert.ok(back.body.equals(img.manifest), 'the manifest round-trips byte for byte');
});

test('skopeo copies a multi-platform OCI index with --all, and to and from an OCI layout', async () => {
  const layer = await randomLayer(1000);
  const amd = makeImage({ format: 'oci', layers: [layer], architecture: 'amd64' });
  const arm = makeImage({ format: 'oci', layers: [layer, await randomLayer(10)], architecture: 'arm64' });
  const idx = makeIndex([
    { image: amd, architecture: 'amd64' },
    { image: arm, architecture: 'arm64' },
  ]);
  await pushIndex(dist.url, 'src/multi', 'latest', idx);
  await run('skopeo', [
    'copy',
    '--all',
    ...NO_TLS,
    `docker://${dist.host}/src/multi:latest`,
    `docker://${ours.host}/multi/app:latest`,
  ]);
  const raw = (
    await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ours.host}/multi/app:latest`])
  ).stdout;
  assert.equal(raw, idx.manifest.toString());
  const layout = join(scratch, 'layout');
  await run('skopeo', [
    'copy',
    '--all',
    '--src-tls-verify=false',
    `docker://${ours.host}/multi/app:latest`,
    `oci:${layout}:x`,
  ]);
  await run('skopeo', [
    'copy',
    '--all',
    '--dest-tls-verify=false',
    `oci:${layout}:x`,
    `docker://${ours.host}/multi/again:x`,
  ]);
  const again = (
    await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ours.host}/multi/again:x`])
  ).stdout;
  assert.equal(JSON.parse(again).manifests.length, 2);
});

test('podman pull and run an image from ours, and push one back', async () => {
  await run('skopeo', [
    'copy',
    ...NO_TLS,
    `docker://${dist.host}/src/busybox:v1`,
    `docker://${ours.host}/podman/busybox:v1`,
  ]);
  const ref = `${ours.host}/podman/busybox:v1`;
  const pushed = `${ours.host}/podman/pushed:v1`;
  try {
    await run('podman', ['pull', '--tls-verify=false', ref]);
    const out = await run('podman', ['run', '--rm', '--network=none', ref]);
    assert.equal(out.stdout.trim(), 'served-by-overcloud');
    await run('podman', ['tag', ref, pushed]);
    await run('podman', ['push', '--tls-verify=false', pushed]);
    const tags = await call(ours, 'GET', '/v2/podman/pushed/tags/list');
    assert.deepEqual(tags.json<{ tags: string[] }>().tags, ['v1']);
    await run('podman', ['rmi', '-f', pushed, ref]);
    await run('podman', ['pull', '--tls-verify=false', pushed]);
    assert.equal(
      (await run('podman', ['run', '--rm', '--network=none', pushed])).stdout.trim(),
      'served-by-overcloud',
    );
  } finally {
    await run('podman', ['rmi', '-f', ref, pushed]).catch(() => undefined);
  }
});
