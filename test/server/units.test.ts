/** Unit tests of the server's pure parts: routing, ranges, pagination, manifest checks, htpasswd, logs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseHtpasswd } from '../../src/server/auth.js';
import { RegistryHttpError } from '../../src/server/errors.js';
import { parseListen } from '../../src/server/index.js';
import { commonLogLine } from '../../src/server/log.js';
import { checkManifest } from '../../src/server/manifest-check.js';
import { checkName, parseManifestRef } from '../../src/server/names.js';
import { linkHeader, paginate } from '../../src/server/pagination.js';
import { parseContentRange, parseRangeHeader, uploadRangeHeader } from '../../src/server/range.js';
import { parseRoute } from '../../src/server/router.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseRoute', () => {
  const cases: [string, unknown][] = [
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/healthz', { kind: 'health' }],
    ['/v2/_catalog', { kind: 'catalog' }],
    ['/v2/a/b/tags/list', { kind: 'tags', name: 'a/b' }],
    ['/v2/a/manifests/latest', { kind: 'manifest', name: 'a', reference: 'latest' }],
    [`/v2/a/b/c/blobs/${D}`, { kind: 'blob', name: 'a/b/c', digest: D }],
    [`/v2/a/blobs/sha256%3A${'a'.repeat(64)}`, { kind: 'blob', name: 'a', digest: D }],
    ['/v2/a/blobs/uploads/', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads', { kind: 'uploads', name: 'a' }],
    ['/v2/a/blobs/uploads/some-id', { kind: 'upload', name: 'a', id: 'some-id' }],
    [`/v2/a/referrers/${D}`, { kind: 'referrers', name: 'a', digest: D }],
    // A repository may be named like an endpoint word; the suffix decides.
    ['/v2/blobs/manifests/manifests/v1', { kind: 'manifest', name: 'blobs/manifests', reference: 'v1' }],
    ['/other', { kind: 'none' }],
    ['/v2/a/unknown', { kind: 'none' }],
  ];
  for (const [path, want] of cases) test(path, () => assert.deepEqual(parseRoute(path), want));

  test('encoded separators and bad escapes are refused', () => {
    for (const p of [
      '/v2/a%2fb/tags/list',
      '/v2/a%2F..%2Fb/tags/list',
      '/v2/a%5cb/tags/list',
      '/v2/%zz/tags/list',
    ]) {
      assert.throws(
        () => parseRoute(p),
        (e: unknown) => e instanceof RegistryHttpError && e.code === 'NAME_INVALID',
      );
    }
  });
  test('dot segments survive decoding only to be refused by name validation', () => {
    const r = parseRoute('/v2/%2e%2e/%2e%2e/etc/tags/list');
    assert.equal(r.kind, 'tags');
    assert.throws(() => checkName((r as { name: string }).name), { code: 'NAME_INVALID' });
    for (const bad of ['..', 'a/../b', '/etc', 'a//b', 'A', 'a/', '.hidden', '_x']) {
      assert.throws(() => checkName(bad), { code: 'NAME_INVALID' }, bad);
    }
  });
});

describe('parseManifestRef', () => {
  test('tags and digests', () => {
    assert.deepEqual(parseManifestRef('v1.0'), { tag: 'v1.0' });
    assert.deepEqual(parseManifestRef(D), { digest: D });
    assert.throws(() => parseManifestRef('sha256:xyz'), { code: 'DIGEST_INVALID' });
    assert.throws(() => parseManifestRef('..'), { code: 'MANIFEST_INVALID' });
    assert.throws(() => parseManifestRef('x'.repeat(129)), { code: 'MANIFEST_INVALID' });
  });
});

describe('ranges', () => {
  test('Range header forms', () => {
    assert.equal(parseRangeHeader(undefined, 10), undefined);
    assert.deepEqual(parseRangeHeader('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRangeHeader('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=8-100', 10), { start: 8, end: 9 });
    assert.equal(parseRangeHeader('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=5-2', 10), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=-0', 10), 'unsatisfiable');
    assert.equal(parseRangeHeader('items=0-1', 10), 'unsatisfiable');
    assert.equal(parseRangeHeader('bytes=0-1,3-4', 10), undefined);
  });
  test('Content-Range of upload chunks', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 5-9'), { start: 5, end: 9 });
    assert.equal(parseContentRange('9-5'), undefined);
    assert.equal(parseContentRange('bytes */10'), undefined);
    assert.equal(uploadRangeHeader(0), '0-0');
    assert.equal(uploadRangeHeader(100), '0-99');
  });
});

describe('pagination', () => {
  const all = ['a', 'b', 'c', 'd'];
  test('n and last', () => {
    assert.deepEqual(paginate(all, undefined, undefined), { items: all, next: undefined });
    assert.deepEqual(paginate(all, 2, undefined), { items: ['a', 'b'], next: 'b' });
    assert.deepEqual(paginate(all, 2, 'b'), { items: ['c', 'd'], next: undefined });
    assert.deepEqual(paginate(all, 0, undefined), { items: [], next: undefined });
    assert.deepEqual(paginate(all, 5, 'bb'), { items: ['c', 'd'], next: undefined });
  });
  test('Link header', () => {
    assert.equal(linkHeader('/v2/a/tags/list', 2, 'b'), '</v2/a/tags/list?n=2&last=b>; rel="next"');
  });
});

describe('checkManifest', () => {
  const desc = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 2 };
  const oci = 'application/vnd.oci.image.manifest.v1+json';
  const body = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  test('an OCI image names its config and layers; artifactType falls back to the config type', () => {
    const c = checkManifest(body({ schemaVersion: 2, mediaType: oci, config: desc, layers: [desc] }), oci);
    assert.equal(c.mediaType, oci);
    assert.equal(c.blobs.length, 2);
    assert.equal(c.artifactType, desc.mediaType);
  });
  test('the media type may come from the Content-Type alone', () => {
    assert.equal(
      checkManifest(body({ schemaVersion: 2, config: desc, layers: [] }), `${oci}; charset=utf-8`).mediaType,
      oci,
    );
  });
  test('foreign layers need not be present', () => {
    const foreign = {
      ...desc,
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      urls: ['x'],
    };
    const t = 'application/vnd.docker.distribution.manifest.v2+json';
    assert.equal(
      checkManifest(body({ schemaVersion: 2, mediaType: t, config: desc, layers: [foreign] }), t).blobs
        .length,
      1,
    );
  });
  test('refusals', () => {
    const bad: [unknown, string | undefined][] = [
      [
        { schemaVersion: 2, mediaType: oci, config: desc, layers: [] },
        'application/vnd.oci.image.index.v1+json',
      ],
      [{ schemaVersion: 1, mediaType: oci, config: desc, layers: [] }, oci],
      [{ schemaVersion: 2, config: desc, layers: [] }, undefined],
      [{ schemaVersion: 2, mediaType: oci, config: { ...desc, digest: 'sha256:12' }, layers: [] }, oci],
      [{ schemaVersion: 2, mediaType: oci, config: { ...desc, size: -1 }, layers: [] }, oci],
      [{ schemaVersion: 2, mediaType: oci, config: desc }, oci],
      [{ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' }, undefined],
      [{ schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }, undefined],
      [[1, 2], oci],
    ];
    for (const [doc, ct] of bad)
      assert.throws(() => checkManifest(body(doc), ct), { code: 'MANIFEST_INVALID' });
    assert.throws(() => checkManifest(Buffer.from('{'), oci), { code: 'MANIFEST_INVALID' });
  });
});

describe('htpasswd, log and listen parsing', () => {
  test('only bcrypt entries are accepted', () => {
    const users = parseHtpasswd(
      '# comment\nalice:$2y$05$abcdefghijklmnopqrstuu1234567890123456789012345678901\n\n',
    );
    assert.deepEqual([...users.keys()], ['alice']);
    assert.throws(() => parseHtpasswd('bob:{SHA}abc'), AppError);
    assert.throws(() => parseHtpasswd('nocolon'), AppError);
  });
  test('common log format', () => {
    const line = commonLogLine({
      remote: '127.0.0.1',
      user: undefined,
      time: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      method: 'GET',
      url: '/v2/a "b"',
      httpVersion: '1.1',
      status: 200,
      bytes: 12,
    });
    assert.equal(line, '127.0.0.1 - - [02/Jan/2024:03:04:05 +0000] "GET /v2/a%20%22b%22 HTTP/1.1" 200 12');
  });
  test('listen addresses', () => {
    assert.deepEqual(parseListen('0.0.0.0:8787'), { host: '0.0.0.0', port: 8787 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen(':80'), { host: '0.0.0.0', port: 80 });
    assert.throws(() => parseListen('8787'), AppError);
    assert.throws(() => parseListen('h:99999'), AppError);
  });
});
