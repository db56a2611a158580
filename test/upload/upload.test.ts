import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { uploadImages } from '../../src/upload/index.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { run } from '../support/exec.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { scratchDir } from '../support/tmp.js';
import {
  assertServed,
  type FixtureSet,
  makeFixtureSet,
  writeImagesFile,
} from '../support/upload-fixtures.js';

let src: RunningRegistry;
let dst: RunningRegistry;
let proxy: FaultProxy;
let set: FixtureSet;
let file: string;
const opts = { registriesConf: false, credentials: () => undefined };

before(async () => {
  [src, dst] = await Promise.all([startDistribution(), startDistribution()]);
  // The source is read through a proxy that only counts requests.
  proxy = await startFaultProxy(src.url);
  set = await makeFixtureSet(src.url, proxy.host);
  file = await writeImagesFile(scratchDir('upload'), set.names, dst.host);
});
after(async () => {
  await proxy.close();
  await Promise.all([src.stop(), dst.stop()]);
});

test('upload copies every image with its digest, each blob fetched once; the re-run moves nothing', async () => {
  const first = await uploadImages({ ...opts, configFiles: [file], parallel: 4 });
  assert.equal(first.images_failed, 0, JSON.stringify(first.failures));
  assert.equal(first.images_copied, set.expected.size);
  // Each unique blob crossed the wire once; every other repository got a mount.
  const gets = proxy.log.filter((r) => r.method === 'GET' && r.url.includes('/blobs/sha256:'));
  const perDigest = new Map<string, number>();
  for (const g of gets) {
    const d = /sha256:[a-f0-9]{64}/.exec(g.url)?.[0] ?? '';
    perDigest.set(d, (perDigest.get(d) ?? 0) + 1);
  }
  assert.deepEqual(
    [...perDigest.values()].filter((n) => n > 1),
    [],
  );
  assert.equal(perDigest.size, set.blobs.size);
  assert.equal(first.blobs_transferred, set.blobs.size);
  assert.equal(
    first.bytes_transferred,
    [...set.blobs.values()].reduce((a, b) => a + b, 0),
  );
  assert.ok(first.blobs_mounted > 0);
  await assertServed(dst.host, set.expected);
  const before = proxy.log.length;
  const again = await uploadImages({ ...opts, configFiles: [file] });
  assert.equal(again.images_present, set.expected.size);
  assert.equal(again.bytes_transferred, 0);
  // The re-run asks the source for manifests only.
  assert.deepEqual(
    proxy.log.slice(before).filter((r) => r.url.includes('/blobs/')),
    [],
  );
});

test('the copied image pulls and runs with podman', async () => {
  const ref = `${dst.host}/tripleomaster/centos-binary-svc0:current`;
  try {
    const { stdout } = await run('podman', ['run', '--rm', '--tls-verify=false', '--network=none', ref]);
    assert.match(stdout, /hello from tripleomaster\/centos-binary-svc0/);
    const multi = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--override-arch=arm64',
      `docker://${dst.host}/tripleomaster/centos-binary-multi:current`,
    ]);
    assert.equal((JSON.parse(multi.stdout) as { Labels: Record<string, string> }).Labels.arch, 'arm64');
  } finally {
    await run('podman', ['rmi', '-f', ref]).catch(() => {});
  }
});
