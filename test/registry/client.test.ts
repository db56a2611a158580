import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { AppError } from '../../src/errors.js';
import { type Digest, sha256Of } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { getImageConfig, listTags, RegistrySession } from '../../src/registry/index.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { busyboxLayer, makeImage, makeIndex, pushImage, pushIndex, randomLayer } from '../support/images.js';

let reg: RunningRegistry;
let session: RegistrySession;
const fast = { attempts: 3, baseMs: 10, maxMs: 50 };

before(async () => {
  reg = await startDistribution();
  session = new RegistrySession({ registriesConf: false, credentials: () => undefined, retry: fast });
});
after(async () => {
  await session.close();
  await reg.stop();
});

async function collect(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('manifests by tag and digest, blobs streamed and verified, HEAD for existence', async () => {
  const img = makeImage({ layers: [await randomLayer(4096)], labels: { name: 'x' } });
  await pushImage(reg.url, 'c/one', 'v1', img);
  const c = session.client(reg.host);
  const byTag = await c.getManifest('c/one', 'v1');
  assert.equal(byTag.kind, 'image');
  assert.equal(byTag.raw.digest, img.manifestDigest);
  assert.deepEqual(byTag.raw.bytes, img.manifest);
  const byDigest = await c.getManifest('c/one', img.manifestDigest);
  assert.equal(byDigest.raw.mediaType, MediaType.dockerManifest);
  assert.equal((await c.headManifest('c/one', 'v1'))?.digest, img.manifestDigest);
  assert.equal(await c.headManifest('c/one', 'nope'), undefined);
  const layer = img.layers[0]!;
  const desc = { mediaType: layer.mediaType, digest: layer.digest as Digest, size: layer.size };
  assert.equal(await c.blobExists('c/one', desc), true);
  assert.equal(await c.blobExists('c/other', desc), false);
  assert.deepEqual(await collect(c.blobReader('c/one', desc, 'layer')), layer.data);
  // A descriptor with the wrong size is a different blob: the stream fails instead of ending.
  await assert.rejects(collect(c.blobReader('c/one', { ...desc, size: desc.size + 1 }, 'layer')), {
    code: 'SIZE_MISMATCH',
  });
  await assert.rejects(c.getManifest('c/one', 'missing'), (e: AppError) => {
    assert.equal(e.code, 'MANIFEST_UNKNOWN');
    assert.match(e.message, /c\/one:missing/);
    return true;
  });
  const config = await getImageConfig(`${reg.host}/c/one:v1`, { session });
  assert.equal(config.config?.Labels?.name, 'x');
});

test('monolithic and chunked uploads, and cross-repository mount', async () => {
  const c = session.client(reg.host);
  const data = randomBytes(300_000);
  const digest = sha256Of(data);
  const desc = { mediaType: 'application/octet-stream', digest, size: data.length };
  await c.pushBlob('up/mono', desc, Readable.from([data]));
  assert.equal(await c.blobExists('up/mono', desc), true);
  // Force chunking with a small chunk size: 3 PATCHes then the closing PUT.
  await c.pushBlob('up/chunked', desc, Readable.from([data.subarray(0, 77), data.subarray(77)]), {
    monolithicMax: 0,
    chunkSize: 128 * 1024,
  });
  assert.deepEqual(await collect(c.blobReader('up/chunked', desc, 'blob')), data);
  assert.equal(await c.mountBlob('up/mounted', digest, 'up/mono'), true);
  assert.equal(await c.blobExists('up/mounted', desc), true);
  const unknown = sha256Of(randomBytes(10));
  assert.equal(await c.mountBlob('up/mounted', unknown, 'up/mono'), false);
});

test('a corrupt source stream never completes an upload', async () => {
  const c = session.client(reg.host);
  const data = randomBytes(200_000);
  const desc = { mediaType: 'application/octet-stream', digest: sha256Of(data), size: data.length };
  const bad = Buffer.from(data);
  bad[150_000] = (bad[150_000] ?? 0) ^ 1;
  const { DigestVerifier } = await import('../../src/oci/digest.js');
  const { pipeline } = await import('node:stream');
  const { HoldLast } = await import('../../src/registry/blob-io.js');
  for (const monolithicMax of [Number.MAX_SAFE_INTEGER, 0]) {
    const body = pipeline(
      Readable.from([bad.subarray(0, 100_000), bad.subarray(100_000)]),
      new DigestVerifier(desc.digest, desc.size),
      new HoldLast(),
      () => {},
    );
    await assert.rejects(c.pushBlob('up/corrupt', desc, body, { monolithicMax, chunkSize: 64 * 1024 }), {
      code: 'DIGEST_MISMATCH',
    });
    assert.equal(await c.blobExists('up/corrupt', desc), false);
  }
});

test('tags and catalog follow Link pagination; index manifests parse', async () => {
  const base = await busyboxLayer();
  const img = makeImage({ layers: [base] });
  for (const t of ['a', 'b', 'c', 'd', 'e']) await pushImage(reg.url, 'paged/repo', t, img);
  const c = session.client(reg.host);
  assert.deepEqual((await c.listTags('paged/repo', 2)).sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual((await listTags(`${reg.host}/paged/repo`, { session })).length, 5);
  const all = await c.catalog(1);
  assert.ok(all.includes('paged/repo') && all.includes('c/one'), all.join(','));
  const amd = makeImage({ format: 'oci', layers: [base], architecture: 'amd64', labels: { arch: 'amd' } });
  const arm = makeImage({ format: 'oci', layers: [base], architecture: 'arm64', labels: { arch: 'arm' } });
  const idx = makeIndex([
    { image: amd, architecture: 'amd64' },
    { image: arm, architecture: 'arm64' },
  ]);
  await pushIndex(reg.url, 'multi/img', 'v1', idx);
  const m = await c.getManifest('multi/img', 'v1');
  assert.equal(m.kind, 'index');
  assert.equal(m.raw.digest, idx.manifestDigest);
  const cfg = await getImageConfig(`${reg.host}/multi/img:v1`, { session, platform: 'linux/arm64' });
  assert.equal(cfg.config?.Labels?.arch, 'arm');
  await assert.rejects(getImageConfig(`${reg.host}/multi/img:v1`, { session, platform: 'linux/s390x' }), {
    code: 'MANIFEST_UNKNOWN',
  });
});
