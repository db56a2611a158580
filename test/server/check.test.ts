/** The store's consistency check finds what it promises to find (so the fuzz suite's use of it can fail). */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkStore } from '../../src/server/index.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { startOurs } from './peers.js';

test('registry check: a consistent store has no problems; missing content, dangling tags and corrupt blobs are named', async () => {
  const peer = await startOurs();
  try {
    const img = makeImage({ layers: [await randomLayer(400), await randomLayer(300)] });
    await pushImage(peer.url, 'chk/app', 'v1', img);
    const clean = await checkStore(peer.root, { verifyContent: true });
    assert.deepEqual(clean.problems, []);
    assert.deepEqual([clean.repositories, clean.manifests, clean.tags, clean.blobs], [1, 1, 1, 4]);
    const blob = (d: string) => join(peer.root, 'blobs', 'sha256', d.slice(7, 9), d.slice(7));
    await rm(blob(img.layers[0]!.digest));
    await writeFile(blob(img.layers[1]!.digest), 'tampered');
    await writeFile(join(peer.root, 'repositories', 'chk', 'app', '_manifests', 'tags', 'v2'), 'sha256:00');
    const problems = (await checkStore(peer.root, { verifyContent: true })).problems.join('\n');
    assert.match(problems, new RegExp(`references blob ${img.layers[0]!.digest}, which is not stored`));
    assert.match(problems, new RegExp(`blob ${img.layers[1]!.digest}: content does not match its digest`));
    assert.match(problems, /chk\/app:v2 points at no valid digest/);
    assert.match(problems, new RegExp(`blob link ${img.layers[0]!.digest} has no content`));
  } finally {
    await peer.stop();
  }
});
