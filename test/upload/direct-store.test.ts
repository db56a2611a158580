import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RegistrySession } from '../../src/registry/index.js';
import { PROOF_HEADER, REGISTRY_ID_HEADER } from '../../src/server/announce.js';
import { uploadImages } from '../../src/upload/index.js';
import { localStores } from '../../src/upload/store-destination.js';
import { packageRoot } from '../../src/util/paths.js';
import { type Peer, startOurs } from '../server/peers.js';
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

// Records of registries that announce their store go here, not to /run (this process only).
const runDir = scratchDir('registry-run');
process.env.OVERCLOUD_REGISTRY_RUN_DIR = runDir;

const opts = { registriesConf: false, credentials: () => undefined };
let src: RunningRegistry;
let proxy: FaultProxy;
let set: FixtureSet;
const peers: Peer[] = [];

/** announcing starts our registry as `registry serve` does, recording every request line. */
async function announcing(): Promise<Peer & { lines: string[] }> {
  const lines: string[] = [];
  const p = await startOurs({ announce: true, log: (l) => lines.push(l) });
  peers.push(p);
  return { ...p, lines };
}

const writes = (lines: string[]) => lines.filter((l) => /"(POST|PUT|PATCH|DELETE) /.test(l));
const storeBlob = (root: string, digest: string) =>
  join(root, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));

before(async () => {
  src = await startDistribution();
  proxy = await startFaultProxy(src.url);
  set = await makeFixtureSet(src.url, proxy.host);
});
after(async () => {
  for (const p of peers) await p.stop();
  await proxy.close();
  await src.stop();
});

test('an upload to a registry on this machine writes its store in place, and the server serves it at once', async () => {
  const ours = await announcing();
  const file = await writeImagesFile(scratchDir('direct'), set.names, ours.host);
  const first = await uploadImages({ ...opts, configFiles: [file] });
  assert.equal(first.images_failed, 0, JSON.stringify(first.failures));
  assert.equal(first.images_copied, set.expected.size);
  assert.deepEqual(first.direct_stores, { [ours.host]: ours.root });
  assert.equal(first.blobs_transferred, set.blobs.size);
  assert.ok(first.blobs_mounted > 0);
  // Nothing went through the server's write path: one ping is all it heard.
  assert.deepEqual(writes(ours.lines), []);
  await assertServed(ours.host, set.expected);
  // Every blob is served intact: skopeo checks each digest while it copies.
  const out = scratchDir('direct-copy');
  await run('skopeo', [
    'copy',
    '--all',
    '--src-tls-verify=false',
    `docker://${ours.host}/tripleomaster/centos-binary-multi:current`,
    `oci:${out}:multi`,
  ]);
  const ref = `${ours.host}/tripleomaster/centos-binary-svc0:current`;
  try {
    const { stdout } = await run('podman', ['run', '--rm', '--tls-verify=false', '--network=none', ref]);
    assert.match(stdout, /hello from tripleomaster\/centos-binary-svc0/);
  } finally {
    await run('podman', ['rmi', '-f', ref]).catch(() => {});
  }
  assert.deepEqual(await readdir(join(ours.root, 'uploads')), []);

  const again = await uploadImages({ ...opts, configFiles: [file] });
  assert.equal(again.images_present, set.expected.size);
  assert.equal(again.bytes_transferred, 0);
});

test('a corrupt byte from the source: that image fails naming the blob, and nothing of it enters the store', async () => {
  const ours = await announcing();
  const svc1 = set.ownLayer.get('tripleomaster/centos-binary-svc1') ?? '';
  proxy.setRule((r) => (r.method === 'GET' && r.url.endsWith(svc1) ? { flipByteAt: 1000 } : undefined));
  try {
    const file = await writeImagesFile(scratchDir('direct-corrupt'), set.names, ours.host);
    const s = await uploadImages({ ...opts, configFiles: [file] });
    assert.equal(s.images_failed, 1, JSON.stringify(s.failures));
    assert.match(s.failures[0]?.image ?? '', /centos-binary-svc1/);
    assert.match(s.failures[0]?.reason ?? '', new RegExp(svc1.slice(7, 19)));
    assert.equal(s.images_copied, set.expected.size - 1);
    assert.equal(existsSync(storeBlob(ours.root, svc1)), false);
    const tag = await runStatus('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${ours.host}/tripleomaster/centos-binary-svc1:current`,
    ]);
    assert.notEqual(tag.code, 0);
    assert.deepEqual(await readdir(join(ours.root, 'uploads')), []);
  } finally {
    proxy.setRule(undefined);
  }
});

test('a registry is written in place only when its address proves it holds the record', async () => {
  const session = new RegistrySession(opts);
  const fakes: Server[] = [];
  try {
    const ours = await announcing();
    // The id is no longer on every response: nothing to copy from a plain request.
    assert.equal((await session.client(ours.host).ping())[REGISTRY_ID_HEADER], undefined);
    const record = JSON.parse(
      await readFile(join(runDir, (await readdir(runDir)).find((f) => f.includes(ours.id!))!), 'utf8'),
    ) as { id: string; secret: string };
    assert.equal(
      ((await stat(join(runDir, `${process.pid}-${ours.id}.json`))).mode & 0o777).toString(8),
      '600',
    );
    // Something else on another port that answers with the real id (copied) and a made-up proof,
    // listed in a record that copies everything but the secret: never trusted.
    const fake = createServer((_req, res) => {
      res.setHeader(REGISTRY_ID_HEADER, record.id);
      res.setHeader(PROOF_HEADER, randomBytes(32).toString('hex'));
      res.end('{}');
    });
    fakes.push(fake);
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakeHost = `127.0.0.1:${(fake.address() as AddressInfo).port}`;
    await writeFile(
      join(runDir, `${process.pid}-copied.json`),
      JSON.stringify({ ...record, listen: fakeHost, secret: randomBytes(32).toString('hex') }),
    );
    // A record with the right id and secret from a process that is gone: not trusted either.
    await writeFile(
      join(runDir, '999999999-gone.json'),
      JSON.stringify({ ...record, pid: 999_999_999, listen: fakeHost }),
    );
    assert.equal((await localStores(session, [fakeHost])).size, 0);
    // A host on another port costs no request at all, and the announcing one proves itself.
    const found = await localStores(session, [ours.host, '127.0.0.1:1']);
    assert.deepEqual([...found.keys()], [ours.host]);
    assert.equal(found.get(ours.host)?.root, ours.root);
    // A registry that stops takes its record with it.
    const brief = await startOurs({ announce: true });
    const records = async () => (await readdir(runDir)).filter((f) => f.startsWith(`${process.pid}-`)).length;
    const withBrief = await records();
    await brief.stop();
    assert.equal(await records(), withBrief - 1);
  } finally {
    for (const f of fakes) f.close();
    await rm(join(runDir, `${process.pid}-copied.json`), { force: true });
    await rm(join(runDir, '999999999-gone.json'), { force: true });
    await session.close();
  }
});

test('--no-direct-store pushes over HTTP; without it the CLI says it wrote the store', async () => {
  const ours = await announcing();
  const file = await writeImagesFile(scratchDir('direct-cli'), set.names.slice(0, 2), ours.host);
  const bin = join(packageRoot(), 'bin', 'overcloud');
  const http = await run(bin, [
    'container',
    'image',
    'upload',
    '--config-file',
    file,
    '--json',
    '--no-direct-store',
  ]);
  assert.deepEqual(JSON.parse(http.stdout).direct_stores, {});
  assert.ok(
    writes(ours.lines).some((l) => l.includes('"PUT /v2/tripleomaster/centos-binary-svc0/blobs/uploads/')),
  );

  const other = await announcing();
  const file2 = await writeImagesFile(scratchDir('direct-cli2'), set.names.slice(0, 2), other.host);
  const direct = await run(bin, ['container', 'image', 'upload', '--config-file', file2]);
  assert.match(
    direct.stdout,
    new RegExp(`${other.host} runs on this machine: wrote its store ${other.root} in place`),
  );
  assert.deepEqual(writes(other.lines), []);
});
