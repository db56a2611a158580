/** Garbage collection: unreferenced blobs older than the grace period go; everything else stays. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectGarbage } from '../../src/server/index.js';
import { makeImage, pushBlob, pushImage, randomLayer } from '../support/images.js';
import { call, startOurs } from './peers.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('gc deletes old unreferenced blobs, spares young ones and referenced ones, purges stale uploads', async () => {
  const peer = await startOurs();
  try {
    const img = makeImage({ layers: [await randomLayer(1000)] });
    await pushImage(peer.url, 'gc/app', 'v1', img);
    const orphan = randomBytes(100);
    const young = randomBytes(100);
    await pushBlob(peer.url, 'gc/app', { data: orphan, digest: sha256(orphan) });
    await pushBlob(peer.url, 'gc/app', { data: young, digest: sha256(young) });
    // Age everything by two hours except `young` (a push whose manifest has not arrived yet).
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const d of [
      sha256(orphan),
      img.config.digest,
      ...img.layers.map((l) => l.digest),
      img.manifestDigest,
    ]) {
      const hex = d.slice(7);
      await utimes(join(peer.root, 'blobs', 'sha256', hex.slice(0, 2), hex), old, old);
    }
    const stale = join(peer.root, 'uploads', '00000000-0000-4000-8000-000000000000');
    await mkdir(stale);
    await writeFile(join(stale, 'data'), 'x');
    await utimes(join(stale, 'data'), new Date(0), new Date(0));

    const dry = await collectGarbage(peer.root, { dryRun: true, gracePeriodMs: 60 * 60 * 1000 });
    assert.deepEqual(
      dry.deleted.map((b) => b.digest),
      [sha256(orphan)],
    );
    assert.equal(dry.spared, 1);
    assert.equal(dry.uploadsPurged, 1);
    // Checked on disk: a HEAD would renew the blob's mtime (on purpose, see gc.ts) and spare it.
    const hex = sha256(orphan).slice(7);
    await stat(join(peer.root, 'blobs', 'sha256', hex.slice(0, 2), hex));

    const real = await collectGarbage(peer.root, { gracePeriodMs: 60 * 60 * 1000 });
    assert.deepEqual(
      real.deleted.map((b) => b.digest),
      [sha256(orphan)],
    );
    assert.equal(real.manifests, 1);
    assert.equal(real.blobsKept, 3);
    assert.equal((await call(peer, 'HEAD', `/v2/gc/app/blobs/${sha256(orphan)}`)).status, 404);
    assert.equal((await call(peer, 'HEAD', `/v2/gc/app/blobs/${sha256(young)}`)).status, 200);
    const m = await call(peer, 'GET', '/v2/gc/app/manifests/v1', { headers: { accept: img.mediaType } });
    assert.ok(m.body.equals(img.manifest));
    // GET, not HEAD: a HEAD renews the blob for the grace period.
    for (const l of img.layers)
      assert.equal((await call(peer, 'GET', `/v2/gc/app/blobs/${l.digest}`)).status, 200);
    assert.deepEqual(await readdir(join(peer.root, 'uploads')), []);
    // Deleting the manifest makes its blobs garbage on the next run.
    await call(peer, 'DELETE', `/v2/gc/app/manifests/${img.manifestDigest}`);
    const after = await collectGarbage(peer.root, { gracePeriodMs: 60 * 60 * 1000 });
    assert.equal(after.deleted.length, 3, 'config, layer and the manifest blob itself');
  } finally {
    await peer.stop();
  }
});
