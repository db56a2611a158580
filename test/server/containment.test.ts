/**
 * No request ends the process, and a failed push stores nothing: each case issue 17 found, with the
 * server still answering `/v2/` and the store passing its consistency check afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { checkStore } from '../../src/server/index.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { scratchDir } from '../support/tmp.js';
import { call, type Peer, startOurs } from './peers.js';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.stop();
});

async function started(opts: Parameters<typeof startOurs>[0] = {}): Promise<Peer> {
  const p = await startOurs(opts);
  peers.push(p);
  return p;
}

/** alive: the server answers /v2/ and its store is consistent. */
async function assertAlive(peer: Peer): Promise<void> {
  assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
  assert.deepEqual((await checkStore(peer.root, { verifyContent: true })).problems, []);
}

const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** An OCI manifest over a pushed image, with extra top-level fields spliced in as raw JSON. */
function manifestWith(img: ReturnType<typeof makeImage>, extra: string): Buffer {
  const base = JSON.parse(img.manifest.toString()) as Record<string, unknown>;
  const text = JSON.stringify({ ...base, mediaType: OCI_MANIFEST });
  return Buffer.from(`${text.slice(0, -1)},${extra}}`);
}

/** chunked sends a body with Transfer-Encoding: chunked, in pieces; resolves the status (0: cut). */
function chunked(url: string, method: string, path: string, pieces: Buffer[], headers = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL(path, url), { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    for (const p of pieces) req.write(p);
    req.end();
  });
}

test('a deeply nested manifest is refused with an error, not a crash, and nothing is stored', async () => {
  const lines: string[] = [];
  const peer = await started({ log: (l) => lines.push(l) });
  const img = makeImage({ format: 'oci', layers: [await randomLayer(100)] });
  await pushImage(peer.url, 'deep/app', 'v1', img);
  // ~20 KB of nesting where a descriptor should be: the old error reply echoed it and overflowed.
  const nestedConfig = Buffer.from(
    `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${deep(10_000)},"layers":[]}`,
  );
  const r = await call(peer, 'PUT', '/v2/deep/app/manifests/bad', {
    headers: { 'content-type': OCI_MANIFEST },
    body: nestedConfig,
  });
  assert.equal(r.status, 400);
  assert.equal(r.code, 'MANIFEST_INVALID');
  assert.ok(r.body.length < 4096, 'the error does not echo the body');
  // With a subject and nesting in annotations: refused before anything is written.
  const withSubject = manifestWith(
    img,
    `"subject":{"mediaType":"${OCI_MANIFEST}","digest":"${img.manifestDigest}","size":${img.manifest.length}},` +
      `"annotations":{"a":${deep(10_000)}}`,
  );
  const put = await call(peer, 'PUT', `/v2/deep/app/manifests/${sha256(withSubject)}`, {
    headers: { 'content-type': OCI_MANIFEST },
    body: withSubject,
  });
  assert.equal(put.status, 400);
  assert.equal(put.code, 'MANIFEST_INVALID');
  assert.equal((await call(peer, 'GET', `/v2/deep/app/manifests/${sha256(withSubject)}`)).status, 404);
  const referrers = await call(peer, 'GET', `/v2/deep/app/referrers/${img.manifestDigest}`);
  assert.equal(referrers.status, 200);
  assert.deepEqual(referrers.json<{ manifests: unknown[] }>().manifests, []);
  await assertAlive(peer);
});

test('annotations must map strings to strings; one bad manifest never breaks the referrers listing', async () => {
  const peer = await started();
  const img = makeImage({ format: 'oci', layers: [await randomLayer(100)] });
  await pushImage(peer.url, 'ann/app', 'v1', img);
  const subject = `"subject":{"mediaType":"${OCI_MANIFEST}","digest":"${img.manifestDigest}","size":${img.manifest.length}}`;
  for (const annotations of ['{"n":1}', '{"o":{"x":"y"}}', '[]', '"text"', '{"l":["a"]}']) {
    const body = manifestWith(img, `${subject},"annotations":${annotations}`);
    const r = await call(peer, 'PUT', '/v2/ann/app/manifests/bad', {
      headers: { 'content-type': OCI_MANIFEST },
      body,
    });
    assert.equal(r.status, 400, annotations);
    assert.equal(r.code, 'MANIFEST_INVALID', annotations);
  }
  // Descriptors: a bad digest, a negative size, a media type that is not type/subtype, urls not strings.
  for (const layer of [
    '{"mediaType":"a/b","digest":"sha256:zz","size":1}',
    `{"mediaType":"a/b","digest":"${img.config.digest}","size":-1}`,
    `{"mediaType":"not a type","digest":"${img.config.digest}","size":1}`,
    `{"mediaType":"a/b","digest":"${img.config.digest}","size":1,"urls":[1]}`,
  ]) {
    const body = Buffer.from(
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify({ mediaType: img.config.mediaType, digest: img.config.digest, size: img.config.size })},"layers":[${layer}]}`,
    );
    const r = await call(peer, 'PUT', '/v2/ann/app/manifests/bad', {
      headers: { 'content-type': OCI_MANIFEST },
      body,
    });
    assert.equal(r.status, 400, layer);
    assert.equal(r.code, 'MANIFEST_INVALID', layer);
  }
  const good = manifestWith(img, `${subject},"annotations":{"org.example":"yes"}`);
  const ok = await call(peer, 'PUT', `/v2/ann/app/manifests/${sha256(good)}`, {
    headers: { 'content-type': OCI_MANIFEST },
    body: good,
  });
  assert.equal(ok.status, 201);
  const list = await call(peer, 'GET', `/v2/ann/app/referrers/${img.manifestDigest}`);
  assert.equal(list.status, 200);
  assert.equal(list.json<{ manifests: { digest: string }[] }>().manifests[0]?.digest, sha256(good));
  await assertAlive(peer);
});

test('a chunked manifest over the limit, with the access log on, is answered 413 and the server goes on', async () => {
  const lines: string[] = [];
  const peer = await started({ log: (l) => lines.push(l) });
  const piece = Buffer.alloc(1024 * 1024, 0x20);
  const status = await chunked(peer.url, 'PUT', '/v2/big/app/manifests/v1', Array(6).fill(piece), {
    'content-type': OCI_MANIFEST,
  });
  assert.ok(status === 413 || status === 0, `status ${status}`);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(lines.some((l) => l.includes('"PUT /v2/big/app/manifests/v1 HTTP/1.1" 413')));
  await assertAlive(peer);
});

test('a log sink that throws, a malformed request line and a reset mid-body do not end the process', async () => {
  const peer = await started({
    log: () => {
      throw new Error('log sink broken');
    },
  });
  assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
  const { port } = new URL(peer.url);
  const reply = await new Promise<string>((resolve) => {
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    s.write('NOT A REQUEST\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  const post = await call(peer, 'POST', '/v2/reset/app/blobs/uploads/');
  const loc = post.headers.get('location')!;
  await new Promise<void>((resolve) => {
    const s = connect(Number(port), '127.0.0.1', () => {
      s.write(`PATCH ${loc} HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n${'x'.repeat(5000)}`, () => {
        s.resetAndDestroy();
        resolve();
      });
    });
    s.on('error', () => {});
  });
  await new Promise((r) => setTimeout(r, 200));
  const status = await call(peer, 'GET', loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-0');
  await assertAlive(peer);
});

test('GET and HEAD of a tag that cannot exist answer 404 MANIFEST_UNKNOWN', async () => {
  const peer = await started();
  for (const method of ['GET', 'HEAD']) {
    const r = await call(peer, method, '/v2/any/app/manifests/.INVALID_MANIFEST_NAME');
    assert.equal(r.status, 404, method);
    if (method === 'GET') assert.equal(r.code, 'MANIFEST_UNKNOWN');
  }
  // A push to such a tag is still an invalid request.
  const put = await call(peer, 'PUT', '/v2/any/app/manifests/.INVALID', { body: '{}' });
  assert.equal(put.status, 400);
});

test('a write error mid-upload (a full disk) is answered, leaves the session resumable, and the server goes on', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to mount a small tmpfs');
    return;
  }
  const mnt = scratchDir('registry-full');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  if (m.status !== 0) {
    t.skip(`cannot mount a tmpfs: ${m.stderr}`);
    return;
  }
  try {
    const { startRegistryServer } = await import('../../src/server/index.js');
    await mkdir(join(mnt, 'store'));
    const lines: string[] = [];
    const srv = await startRegistryServer({
      root: join(mnt, 'store'),
      listen: '127.0.0.1:0',
      log: (l) => lines.push(l),
    });
    try {
      const peer = { url: srv.url };
      const post = await call(peer, 'POST', '/v2/full/app/blobs/uploads/');
      const loc = post.headers.get('location')!;
      const body = randomBytes(4 * 1024 * 1024);
      const r = await chunked(srv.url, 'PATCH', loc, [body.subarray(0, 2 << 20), body.subarray(2 << 20)]);
      assert.ok(r === 500 || r === 0, `status ${r}`);
      assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
      const st = await call(peer, 'GET', loc);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-0', 'the failed chunk was cut back');
      assert.deepEqual((await checkStore(join(mnt, 'store'))).problems, []);
      assert.equal((await readdir(join(mnt, 'store', 'blobs'))).length, 0);
    } finally {
      await srv.close();
    }
  } finally {
    spawnSync('umount', ['-l', mnt]);
  }
});
