/**
 * Bounded fuzzing (fast-check) of everything a client controls: names, references, digests,
 * ranges, headers, manifest bodies of hostile shapes and sizes, and bodies cut off part way. After
 * every property the server still answers `/v2/`, no request got a 500, and the store passes its
 * consistency check. Runs are bounded (a fixed number per property, a fixed seed unless FUZZ_SEED
 * is set) so the suite takes seconds in CI; a failure prints the seed and the shrunk case.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { checkStore } from '../../src/server/index.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { call, type Peer, startOurs } from './peers.js';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const params = { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 17), endOnFailure: true };

let peer: Peer;
let port: number;
let img: ReturnType<typeof makeImage>;
before(async () => {
  peer = await startOurs({ enableDelete: true, maxBlobSize: 1 << 20 });
  port = Number(new URL(peer.url).port);
  img = makeImage({ format: 'oci', layers: [await randomLayer(500)] });
  await pushImage(peer.url, 'fuzz/app', 'v1', img);
});
after(() => peer.stop());

/** raw sends a request exactly as given (no URL normalisation) and returns its status (0: connection cut). */
function raw(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
    } catch {
      resolve(-1); // the client library refused to send it: nothing reached the server
      return;
    }
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** The invariant after every run: alive, no internal error, a consistent store. */
async function assertHealthy(statuses: number[]): Promise<void> {
  assert.equal((await call(peer, 'GET', '/v2/')).status, 200, 'the server still answers /v2/');
  assert.deepEqual(
    statuses.filter((s) => s >= 500),
    [],
    'no request is an internal error',
  );
  assert.deepEqual((await checkStore(peer.root, { verifyContent: true })).problems, []);
}

const printable = fc.string({
  unit: fc.constantFrom(...'abz09._-/:%@?&=+ ~!$*,;[]{}"\'\\\u00e9\u4e2d'.split('')),
  maxLength: 40,
});
const validName = fc.stringMatching(/^[a-z0-9]{1,8}([._-][a-z0-9]{1,4})?(\/[a-z0-9]{1,8}){0,2}$/);
const name = fc.oneof(
  validName,
  printable,
  fc.constantFrom('fuzz/app', '..', '../../etc', 'a/../b', '%2e%2e', 'A', 'x'.repeat(300)),
);
const digest = fc.oneof(
  fc.constant(''),
  fc
    .string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 64, maxLength: 64 })
    .map((h) => `sha256:${h}`),
  printable,
  fc.constantFrom('sha256:', 'sha512:abc', 'md5:00', 'sha256:../../x'),
);
const reference = fc.oneof(
  digest,
  printable,
  fc.constantFrom('v1', 'latest', '.INVALID_MANIFEST_NAME', '-x', 'a'.repeat(200)),
);
const headerValue = fc.string({ unit: fc.constantFrom(...'abc019 -=,;/*:bytes'.split('')), maxLength: 30 });

test('fuzz: requests with generated paths, names, references, digests, ranges and headers', async () => {
  const statuses: number[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'),
      fc.oneof(
        fc.tuple(name, reference).map(([n, r]) => `/v2/${n}/manifests/${r}`),
        fc.tuple(name, digest).map(([n, d]) => `/v2/${n}/blobs/${d}`),
        fc.tuple(name, digest).map(([n, d]) => `/v2/${n}/blobs/uploads/?digest=${d}&mount=${d}&from=${n}`),
        fc.tuple(name, printable).map(([n, id]) => `/v2/${n}/blobs/uploads/${id}`),
        fc.tuple(name, printable, printable).map(([n, a, b]) => `/v2/${n}/tags/list?n=${a}&last=${b}`),
        fc.tuple(name, digest, printable).map(([n, d, t]) => `/v2/${n}/referrers/${d}?artifactType=${t}`),
        printable.map((p) => `/v2/_catalog?n=${p}`),
        printable.map((p) => `/${p}`),
      ),
      fc.record(
        {
          range: fc.oneof(
            headerValue,
            fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`),
          ),
          'content-range': fc.oneof(
            headerValue,
            fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `${a}-${b}`),
          ),
          'content-type': fc.oneof(headerValue, fc.constant('application/vnd.oci.image.manifest.v1+json')),
          accept: headerValue,
          authorization: headerValue,
        },
        { requiredKeys: [] },
      ),
      fc.option(fc.uint8Array({ maxLength: 2000 }), { nil: undefined }),
      async (method, path, headers, body) => {
        statuses.push(await raw(method, path, headers, body && Buffer.from(body)));
      },
    ),
    params,
  );
  await assertHealthy(statuses);
});

/** Descriptors: the real blobs, or anything. */
const descriptor = () =>
  fc.oneof(
    // Evaluated when generated: `img` exists by then.
    fc.constant(null).map(() => ({
      mediaType: img.layers[0]!.mediaType,
      digest: img.layers[0]!.digest,
      size: img.layers[0]!.size,
    })),
    fc.record(
      {
        mediaType: fc.oneof(fc.string(), fc.constant('a/b')),
        digest: digest,
        size: fc.oneof(fc.integer(), fc.double(), fc.string()),
        annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
        urls: fc.anything(),
        artifactType: fc.anything(),
        platform: fc.anything(),
        data: fc.anything(),
      },
      { requiredKeys: [] },
    ),
    fc.anything(),
  );

/** deep wraps a JSON text in `depth` arrays or objects. */
const deepJson = fc
  .tuple(fc.integer({ min: 100, max: 30_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

test('fuzz: manifest PUTs of hostile shapes and sizes are stored whole or not at all', async () => {
  const statuses: number[] = [];
  await fc.assert(
    fc.asyncProperty(
      fc.record(
        {
          schemaVersion: fc.oneof(fc.constant(2), fc.anything()),
          mediaType: fc.constantFrom(
            'application/vnd.oci.image.manifest.v1+json',
            'application/vnd.oci.image.index.v1+json',
            'application/vnd.docker.distribution.manifest.v2+json',
            'text/plain',
          ),
          config: descriptor(),
          layers: fc.oneof(fc.array(descriptor(), { maxLength: 4 }), fc.anything()),
          manifests: fc.oneof(fc.array(descriptor(), { maxLength: 3 }), fc.anything()),
          subject: descriptor(),
          annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
          artifactType: fc.anything(),
        },
        { requiredKeys: ['schemaVersion', 'mediaType'] },
      ),
      fc.option(
        fc.tuple(fc.constantFrom('config', 'layers', 'subject', 'annotations', 'manifests'), deepJson),
        {
          nil: undefined,
        },
      ),
      fc.oneof(fc.constant('tag'), fc.constant('digest')),
      async (doc, nested, by) => {
        let text = JSON.stringify(doc);
        if (nested) text = `${text.slice(0, -1)},"${nested[0]}":${nested[1]}}`;
        const body = Buffer.from(text);
        const d = sha256(body);
        const ref = by === 'tag' ? 'fuzzed' : d;
        const status = await raw(
          'PUT',
          `/v2/fuzz/app/manifests/${ref}`,
          { 'content-type': doc.mediaType },
          body,
        );
        statuses.push(status);
        const got = await call(peer, 'GET', `/v2/fuzz/app/manifests/${d}`);
        if (status === 201) assert.deepEqual(got.body, body, 'a stored manifest is served byte for byte');
        else assert.equal(got.status, 404, `refused with ${status}, yet served`);
        const referrers = await call(peer, 'GET', `/v2/fuzz/app/referrers/${img.manifestDigest}`);
        assert.equal(referrers.status, 200);
      },
    ),
    params,
  );
  await assertHealthy(statuses);
});

/** cutOff sends headers promising `declared` bytes, then `sent` bytes, then resets the connection. */
function cutOff(method: string, path: string, declared: number | 'chunked', sent: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      const length = declared === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${declared}`;
      const head = `${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n${length}\r\n\r\n`;
      const piece =
        declared === 'chunked' ? `${sent.toString(16)}\r\n${'y'.repeat(sent)}\r\n` : 'y'.repeat(sent);
      s.write(head + piece, () => {
        if (Math.random() < 0.5) s.resetAndDestroy();
        else s.destroy();
        setTimeout(resolve, 5);
      });
    });
    s.on('error', () => resolve());
  });
}

test('fuzz: bodies cut off part way leave sessions consistent and resumable', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('patch', 'put-session', 'post-monolithic', 'manifest'),
      fc.oneof(fc.integer({ min: 1, max: 200_000 }), fc.constant('chunked' as const)),
      fc.integer({ min: 0, max: 50_000 }),
      async (kind, declared, sent) => {
        const post = await call(peer, 'POST', '/v2/fuzz/cut/blobs/uploads/');
        const loc = post.headers.get('location')!;
        const path =
          kind === 'patch'
            ? loc
            : kind === 'put-session'
              ? `${loc}?digest=${sha256('z')}`
              : kind === 'post-monolithic'
                ? `/v2/fuzz/cut/blobs/uploads/?digest=${sha256('z')}`
                : '/v2/fuzz/cut/manifests/cut';
        const sentBytes = typeof declared === 'number' ? Math.min(sent, declared - 1) : sent;
        await cutOff(
          kind === 'patch' ? 'PATCH' : kind === 'post-monolithic' ? 'POST' : 'PUT',
          path,
          declared,
          sentBytes,
        );
        // Once the server has seen the reset, the session answers with the offset it had before
        // the cut chunk (0 here): the part that arrived is not kept. (While the aborted request is
        // still being taken down, a status may show the bytes in flight.)
        let st = await call(peer, 'GET', loc);
        for (let i = 0; i < 100 && st.status === 204 && st.headers.get('range') !== '0-0'; i++) {
          await new Promise((r) => setTimeout(r, 20));
          st = await call(peer, 'GET', loc);
        }
        assert.ok(st.status === 204 || st.status === 404, `session status ${st.status}`);
        if (st.status === 204) assert.equal(st.headers.get('range'), '0-0');
        await call(peer, 'DELETE', loc);
      },
    ),
    { ...params, numRuns: Math.ceil(RUNS / 2) },
  );
  await new Promise((r) => setTimeout(r, 200));
  await assertHealthy([]);
});
