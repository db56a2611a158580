import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { uploadImages } from '../../src/upload/index.js';
import { packageRoot } from '../../src/util/paths.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { run, runStatus } from '../support/exec.js';
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
const overcloud = join(packageRoot(), 'bin', 'overcloud');

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

test('a dry run plans every copy as plain data and writes nothing; the CLI prints the same plan', async () => {
  const dry = await uploadImages({ ...opts, configFiles: [file], dryRun: true });
  assert.deepEqual(dry.unresolved, []);
  const { plan } = dry;
  assert.equal(plan.images.length, set.expected.size);
  assert.ok(plan.images.every((p) => p.action === 'copy'));
  // Per destination registry each unique blob is copied once; other repositories mount it.
  assert.equal(plan.copies.length, set.blobs.size);
  assert.equal(
    plan.bytesToCopy,
    [...set.blobs.values()].reduce((x, y) => x + y, 0),
  );
  assert.ok(plan.mounts.length > 0);
  assert.ok(plan.copies.every((c) => c.from.kind === 'registry' && c.to.host === dst.host));
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  const res = await runStatus(overcloud, [
    'container',
    'image',
    'upload',
    '--config-file',
    file,
    '--dry-run',
    '--json',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const printed = JSON.parse(res.stdout) as typeof dry;
  assert.deepEqual(
    printed.plan.copies.map((c) => c.to),
    plan.copies.map((c) => c.to),
  );
  const human = await runStatus(overcloud, [
    'container',
    'image',
    'upload',
    '--config-file',
    file,
    '--dry-run',
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    new RegExp(`^would copy ${set.expected.size} image\\(s\\), 0 already present`, 'm'),
  );
  // Nothing was written: the destination holds no repository yet.
  const list = await runStatus(overcloud, ['container', 'image', 'list', dst.host, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), {});
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
