// The OCI image layout as an upload source: reading a layout written on disk, every blob checked
// while it streams, and a copy from the layout into our registry server (shared layers sent once,
// a damaged image failing alone, its manifest never pushed).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Digest } from '../../src/oci/digest.js';
import { blobsOf, RegistrySession } from '../../src/registry/index.js';
import { executePlan } from '../../src/upload/execute.js';
import { OciLayoutSource, REF_NAME } from '../../src/upload/layout-source.js';
import type { ResolvedImage } from '../../src/upload/model.js';
import { manifestBodies, planUpload } from '../../src/upload/plan.js';
import { silentProgress } from '../../src/upload/progress.js';
import { inspectDestinations } from '../../src/upload/resolve.js';
import { limiter } from '../../src/util/concurrency.js';
import { startOursRecordingPuts } from '../server/peers.js';
import { makeImage, randomLayer } from '../support/images.js';

const sha256 = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Layout {
  dir: string;
  images: Map<string, ReturnType<typeof makeImage>>;
}

/** writeLayout writes images into a fresh OCI image layout, the way podman save and skopeo do. */
async function writeLayout(images: Record<string, ReturnType<typeof makeImage>>): Promise<Layout> {
  const dir = await mkdtemp(join(tmpdir(), 'overcloud-layout-'));
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (data: Buffer): Promise<void> =>
    writeFile(join(dir, 'blobs', 'sha256', sha256(data).slice(7)), data);
  const manifests = [];
  for (const [name, img] of Object.entries(images)) {
    for (const b of [img.config, ...img.layers]) await put(b.data);
    await put(img.manifest);
    manifests.push({
      mediaType: MANIFEST,
      digest: img.manifestDigest,
      size: img.manifest.length,
      annotations: { [REF_NAME]: name },
    });
  }
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return { dir, images: new Map(Object.entries(images)) };
}

async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const blobFile = (dir: string, digest: string): string => join(dir, 'blobs', 'sha256', digest.slice(7));

test('a layout resolves ref names and digests to checked manifests and streams its blobs', async () => {
  const shared = await randomLayer(300_000);
  const a = makeImage({ format: 'oci', layers: [shared, await randomLayer(1000)] });
  const l = await writeLayout({ 'localhost/ns/a:latest': a });
  try {
    const src = await OciLayoutSource.open(l.dir);
    assert.equal(src.name, `oci:${l.dir}`);
    assert.deepEqual(src.refNames(), ['localhost/ns/a:latest']);
    const m = await src.manifest('localhost/ns/a:latest');
    assert.equal(m.kind, 'image');
    assert.equal(m.raw.digest, a.manifestDigest);
    assert.equal(m.raw.mediaType, MANIFEST);
    const byDigest = await src.manifest(a.manifestDigest);
    assert.equal(byDigest.raw.digest, a.manifestDigest);
    if (m.kind !== 'image') return;
    const [config, ...layers] = blobsOf(m.manifest);
    assert.equal(config?.digest, a.config.digest);
    let counted = 0;
    const got = await drain(src.blob(layers[0]!, (n) => (counted += n)));
    assert.ok(got.equals(shared.data), 'the layer bytes as written');
    assert.equal(counted, shared.data.length, 'progress sees every byte');
  } finally {
    await rm(l.dir, { recursive: true, force: true });
  }
});

test('a damaged or truncated blob fails its stream with DIGEST_MISMATCH / SIZE_MISMATCH, naming the blob', async () => {
  const layer = await randomLayer(2_000_000);
  const a = makeImage({ format: 'oci', layers: [layer] });
  const l = await writeLayout({ a: a });
  try {
    const src = await OciLayoutSource.open(l.dir);
    const desc = {
      mediaType: a.layers[0]!.mediaType,
      digest: a.layers[0]!.digest as Digest,
      size: a.layers[0]!.size,
    };
    const damaged = Buffer.from(layer.data);
    damaged[damaged.length - 10] = (damaged[damaged.length - 10] ?? 0) ^ 0xff;
    await writeFile(blobFile(l.dir, desc.digest), damaged);
    let received = 0;
    const s = src.blob(desc);
    s.on('data', (c: Buffer) => (received += c.length));
    await assert.rejects(drain(s), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'DIGEST_MISMATCH');
      assert.match(e.message, new RegExp(`blob ${desc.digest} of oci:`));
      return true;
    });
    assert.ok(received < desc.size, 'the last chunk was held back');
    await truncate(blobFile(l.dir, desc.digest), 1000);
    await assert.rejects(drain(src.blob(desc)), { code: 'SIZE_MISMATCH' });
    await assert.rejects(
      drain(src.blob({ ...desc, digest: sha256(Buffer.from('absent')) })),
      /ENOENT/,
      'a missing blob fails its stream',
    );
  } finally {
    await rm(l.dir, { recursive: true, force: true });
  }
});

test('what is not a layout, an unknown name or an index that lies about a size is a clear error', async () => {
  const a = makeImage({ format: 'oci', layers: [await randomLayer(100)] });
  const l = await writeLayout({ 'x/a:1': a });
  const empty = await mkdtemp(join(tmpdir(), 'overcloud-layout-empty-'));
  try {
    await assert.rejects(OciLayoutSource.open(empty), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'LAYOUT_INVALID');
      assert.match(e.message, /is not an OCI image layout/);
      return true;
    });
    const src = await OciLayoutSource.open(l.dir);
    await assert.rejects(src.manifest('x/b:1'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'MANIFEST_UNKNOWN');
      assert.match(e.message, /x\/b:1: no image of that name/);
      assert.match(e.hint ?? '', /x\/a:1/);
      return true;
    });
    assert.throws(() => src.blobPath('sha256:../../etc/passwd' as Digest), { code: 'DIGEST_INVALID' });
    await writeFile(
      join(l.dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: MANIFEST, digest: a.manifestDigest, size: 3, annotations: { [REF_NAME]: 'x/a:1' } },
        ],
      }),
    );
    const lying = await OciLayoutSource.open(l.dir);
    await assert.rejects(lying.manifest('x/a:1'), { code: 'SIZE_MISMATCH' });
    await writeFile(
      join(l.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ digest: 'md5:x' }] }),
    );
    await assert.rejects(OciLayoutSource.open(l.dir), { code: 'LAYOUT_INVALID' });
    await writeFile(join(l.dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    await assert.rejects(OciLayoutSource.open(l.dir), /imageLayoutVersion 1.0.0/);
  } finally {
    await rm(l.dir, { recursive: true, force: true });
    await rm(empty, { recursive: true, force: true });
  }
});

test('copying from a layout into our registry: shared layers sent once, a damaged image fails alone and its manifest stays out', async () => {
  const base = await randomLayer(400_000, 'base.bin');
  const a = makeImage({
    format: 'oci',
    layers: [base, await randomLayer(5000, 'a.bin')],
    labels: { n: 'a' },
  });
  const b = makeImage({
    format: 'oci',
    layers: [base, await randomLayer(6000, 'b.bin')],
    labels: { n: 'b' },
  });
  const c = makeImage({ format: 'oci', layers: [await randomLayer(7000, 'c.bin')], labels: { n: 'c' } });
  const l = await writeLayout({ 'localhost/ns/a:1': a, 'localhost/ns/b:1': b, 'localhost/ns/c:1': c });
  // c's own layer is damaged on disk after the export: c must fail, a and b must not.
  const cLayer = c.layers[0]!;
  const bad = Buffer.from(cLayer.data);
  bad[100] = (bad[100] ?? 0) ^ 1;
  await writeFile(blobFile(l.dir, cLayer.digest), bad);
  const registry = await startOursRecordingPuts();
  const { puts } = registry;
  const session = new RegistrySession();
  try {
    const src = await OciLayoutSource.open(l.dir);
    const resolved: ResolvedImage[] = [];
    for (const name of ['a', 'b', 'c']) {
      const m = await src.manifest(`localhost/ns/${name}:1`);
      assert.equal(m.kind, 'image');
      if (m.kind !== 'image') return;
      resolved.push({
        task: {
          imagename: name,
          source: { registry: 'localhost', repository: `ns/${name}`, tag: '1' },
          target: { registry: registry.host, repository: `ns/${name}`, tag: '1' },
          origin: 'test',
        },
        root: m.raw,
        images: [{ raw: m.raw, blobs: blobsOf(m.manifest) }],
        isIndex: false,
        layout: l.dir,
      });
    }
    const run = async () => {
      const dest = await inspectDestinations(session, resolved, limiter(4));
      const plan = planUpload(resolved, dest);
      const manifests = manifestBodies(resolved);
      return {
        plan,
        result: await executePlan(plan, { session, manifests, limit: limiter(2), progress: silentProgress }),
      };
    };
    const first = await run();
    const status = Object.fromEntries(first.result.images.map((i) => [i.target.split('/').pop(), i.status]));
    assert.deepEqual(status, { 'a:1': 'copied', 'b:1': 'copied', 'c:1': 'failed' });
    const failed = first.result.images.find((i) => i.status === 'failed');
    assert.match(
      failed?.error ?? '',
      new RegExp(`blob ${cLayer.digest}.*content digest is .*expected ${cLayer.digest}`),
    );
    assert.equal(first.result.blobsMounted, 1, "b mounts a's copy of the shared base layer");
    assert.equal(puts.filter((d) => d === a.layers[0]!.digest).length, 1, 'the shared layer was sent once');
    assert.equal(new Set(puts).size, puts.length, `a blob was uploaded twice: ${puts.join(' ')}`);
    assert.ok(!puts.includes(cLayer.digest), 'the damaged blob never completed an upload');

    const client = session.client(registry.host);
    assert.equal(
      (await client.getManifest('ns/a', '1')).raw.digest,
      a.manifestDigest,
      'same bytes, same digest',
    );
    assert.equal(await client.headManifest('ns/c', '1'), undefined, "c's manifest was not pushed");

    // Again with nothing changed (c still damaged): a and b cost a HEAD each, nothing is sent.
    puts.length = 0;
    const again = await run();
    assert.deepEqual(
      again.result.images.map((i) => i.status),
      ['present', 'present', 'failed'],
    );
    assert.deepEqual(puts, []);
  } finally {
    await session.close();
    await registry.stop();
    await rm(l.dir, { recursive: true, force: true });
  }
});
