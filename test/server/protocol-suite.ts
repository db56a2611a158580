/**
 * @module test/server/protocol-suite
 * One suite of distribution-spec cases, run against our server AND distribution 2.8, so that the
 * cases are known to test the protocol rather than our own reading of it. Cases distribution 2.8
 * does not implement (or gets wrong) are registered with `oursOnly`, with the reason.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeImage, makeIndex, pushBlob, pushImage, randomLayer } from '../support/images.js';
import { call, type Peer } from './peers.js';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCTET = { 'content-type': 'application/octet-stream' };

/** protocolSuite registers the cases for one peer. */
export function protocolSuite(start: () => Promise<Peer>): void {
  let peer: Peer;
  const p = {
    get url() {
      return peer.url;
    },
  };
  before(async () => {
    peer = await start();
  });
  after(async () => {
    await peer.stop();
  });
  /** A case distribution 2.8 cannot pass, skipped there with the reason. */
  const oursOnly = (name: string, why: string, fn: () => Promise<void>): void => {
    test(name, async (t) => {
      if (peer.kind !== 'ours') {
        t.skip(`ours only: ${why}`);
        return;
      }
      await fn();
    });
  };

  describe('base and errors', () => {
    test('GET /v2/ answers 200 with the API version header', async () => {
      const r = await call(p, 'GET', '/v2/');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    });
    test('unknown manifest, blob and repository give the spec codes', async () => {
      assert.equal((await call(p, 'GET', '/v2/nothing/here/manifests/latest')).code, 'MANIFEST_UNKNOWN');
      const blob = await call(p, 'GET', `/v2/nothing/here/blobs/${sha256('x')}`);
      assert.equal(blob.status, 404);
      assert.equal(blob.code, 'BLOB_UNKNOWN');
      const tags = await call(p, 'GET', '/v2/nothing/here/tags/list');
      assert.equal(tags.status, 404);
      assert.equal(tags.code, 'NAME_UNKNOWN');
    });
    test('a malformed digest is DIGEST_INVALID', async () => {
      const r = await call(p, 'GET', '/v2/a/b/blobs/sha256:abc');
      assert.equal(r.status, 400);
      assert.equal(r.code, 'DIGEST_INVALID');
    });
  });

  describe('blob push and pull', () => {
    oursOnly(
      'monolithic POST ?digest= stores the blob; HEAD and GET return it',
      'distribution 2.8 answers the optional single-POST upload with a session (202)',
      async () => {
        const data = randomBytes(70_000);
        const d = sha256(data);
        const r = await call(p, 'POST', `/v2/blobs/mono/blobs/uploads/?digest=${d}`, {
          headers: { ...OCTET, 'content-length': String(data.length) },
          body: data,
        });
        assert.equal(r.status, 201);
        assert.equal(r.headers.get('docker-content-digest'), d);
        assert.match(r.headers.get('location') ?? '', new RegExp(`/v2/blobs/mono/blobs/${d}$`));
        const head = await call(p, 'HEAD', `/v2/blobs/mono/blobs/${d}`);
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), String(data.length));
        assert.equal(head.headers.get('docker-content-digest'), d);
        const get = await call(p, 'GET', `/v2/blobs/mono/blobs/${d}`);
        assert.ok(get.body.equals(data));
      },
    );

    test('POST then PUT with the whole body', async () => {
      const data = randomBytes(5000);
      const post = await call(p, 'POST', '/v2/blobs/postput/blobs/uploads/');
      assert.equal(post.status, 202);
      assert.ok(post.headers.get('docker-upload-uuid'));
      const loc = new URL(post.headers.get('location') ?? '', peer.url);
      loc.searchParams.set('digest', sha256(data));
      const put = await call(p, 'PUT', loc.href, { headers: OCTET, body: data });
      assert.equal(put.status, 201);
      assert.ok((await call(p, 'GET', `/v2/blobs/postput/blobs/${sha256(data)}`)).body.equals(data));
    });

    test('chunked PATCH uploads report their range, then PUT commits', async () => {
      const data = randomBytes(30_000);
      const post = await call(p, 'POST', '/v2/blobs/chunked/blobs/uploads/');
      let loc = new URL(post.headers.get('location') ?? '', peer.url);
      for (const [start, end] of [
        [0, 9_999],
        [10_000, 24_999],
        [25_000, 29_999],
      ] as const) {
        const r = await call(p, 'PATCH', loc.href, {
          headers: { ...OCTET, 'content-range': `${start}-${end}` },
          body: data.subarray(start, end + 1),
        });
        assert.equal(r.status, 202);
        assert.equal(r.headers.get('range'), `0-${end}`);
        loc = new URL(r.headers.get('location') ?? '', peer.url);
      }
      const status = await call(p, 'GET', loc.href);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), '0-29999');
      loc.searchParams.set('digest', sha256(data));
      const put = await call(p, 'PUT', loc.href);
      assert.equal(put.status, 201);
      assert.ok((await call(p, 'GET', `/v2/blobs/chunked/blobs/${sha256(data)}`)).body.equals(data));
    });

    test('a digest that does not match the body is refused and nothing is stored', async () => {
      const data = randomBytes(1000);
      const claimed = sha256('something else');
      const post = await call(p, 'POST', '/v2/blobs/bad/blobs/uploads/');
      const loc = new URL(post.headers.get('location') ?? '', peer.url);
      loc.searchParams.set('digest', claimed);
      const r = await call(p, 'PUT', loc.href, { headers: OCTET, body: data });
      assert.equal(r.status, 400);
      assert.equal(r.code, 'DIGEST_INVALID');
      assert.equal((await call(p, 'HEAD', `/v2/blobs/bad/blobs/${claimed}`)).status, 404);
    });

    test('Range requests get 206 with Content-Range', async () => {
      const data = randomBytes(4096);
      await pushBlob(peer.url, 'blobs/range', { data, digest: sha256(data) });
      const path = `/v2/blobs/range/blobs/${sha256(data)}`;
      const mid = await call(p, 'GET', path, { headers: { range: 'bytes=100-199' } });
      assert.equal(mid.status, 206);
      assert.equal(mid.headers.get('content-range'), 'bytes 100-199/4096');
      assert.ok(mid.body.equals(data.subarray(100, 200)));
      const tail = await call(p, 'GET', path, { headers: { range: 'bytes=-10' } });
      assert.equal(tail.status, 206);
      assert.ok(tail.body.equals(data.subarray(4086)));
      const open = await call(p, 'GET', path, { headers: { range: 'bytes=4000-' } });
      assert.ok(open.body.equals(data.subarray(4000)));
    });

    test('cancelling an upload forgets it', async () => {
      const post = await call(p, 'POST', '/v2/blobs/cancel/blobs/uploads/');
      const loc = new URL(post.headers.get('location') ?? '', peer.url).href;
      assert.equal((await call(p, 'DELETE', loc)).status, 204);
      assert.equal((await call(p, 'GET', loc)).status, 404);
    });

    test('a repository serves only blobs linked to it', async () => {
      const data = randomBytes(500);
      await pushBlob(peer.url, 'links/a', { data, digest: sha256(data) });
      assert.equal((await call(p, 'HEAD', `/v2/links/a/blobs/${sha256(data)}`)).status, 200);
      assert.equal((await call(p, 'HEAD', `/v2/links/b/blobs/${sha256(data)}`)).status, 404);
    });

    test('cross-repository mount links an existing blob; an absent one opens a session', async () => {
      const data = randomBytes(800);
      const d = sha256(data);
      await pushBlob(peer.url, 'mount/src', { data, digest: d });
      const m = await call(p, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`);
      assert.equal(m.status, 201);
      assert.equal(m.headers.get('docker-content-digest'), d);
      assert.ok((await call(p, 'GET', `/v2/mount/dst/blobs/${d}`)).body.equals(data));
      const absent = await call(
        p,
        'POST',
        `/v2/mount/dst/blobs/uploads/?mount=${sha256('nope')}&from=mount/src`,
      );
      assert.equal(absent.status, 202);
      assert.ok(absent.headers.get('location'));
    });

    test('DELETE of a blob unlinks it from the repository', async () => {
      const data = randomBytes(300);
      await pushBlob(peer.url, 'del/blob', { data, digest: sha256(data) });
      assert.equal((await call(p, 'DELETE', `/v2/del/blob/blobs/${sha256(data)}`)).status, 202);
      assert.equal((await call(p, 'HEAD', `/v2/del/blob/blobs/${sha256(data)}`)).status, 404);
    });

    oursOnly(
      'an out-of-order chunk gets 416 and the session keeps its range',
      'distribution 2.8 ignores Content-Range on PATCH',
      async () => {
        const post = await call(p, 'POST', '/v2/blobs/ooo/blobs/uploads/');
        const loc = new URL(post.headers.get('location') ?? '', peer.url).href;
        await call(p, 'PATCH', loc, { headers: { ...OCTET, 'content-range': '0-4' }, body: 'hello' });
        const r = await call(p, 'PATCH', loc, {
          headers: { ...OCTET, 'content-range': '10-14' },
          body: 'world',
        });
        assert.equal(r.status, 416);
        assert.equal(r.headers.get('range'), '0-4');
        assert.equal((await call(p, 'GET', loc)).headers.get('range'), '0-4');
      },
    );

    oursOnly(
      'an unsatisfiable Range gets 416 with Content-Range */size',
      'distribution 2.8 answers 416 with a Content-Length and no body',
      async () => {
        const data = randomBytes(100);
        await pushBlob(peer.url, 'blobs/range416', { data, digest: sha256(data) });
        const r = await call(p, 'GET', `/v2/blobs/range416/blobs/${sha256(data)}`, {
          headers: { range: 'bytes=500-' },
        });
        assert.equal(r.status, 416);
        assert.equal(r.headers.get('content-range'), 'bytes */100');
      },
    );

    oursOnly(
      'mount= without from= mounts from the shared store',
      'distribution 2.8 needs from=',
      async () => {
        const data = randomBytes(100);
        await pushBlob(peer.url, 'mount/any', { data, digest: sha256(data) });
        const r = await call(p, 'POST', `/v2/mount/other/blobs/uploads/?mount=${sha256(data)}`);
        assert.equal(r.status, 201);
        assert.equal((await call(p, 'HEAD', `/v2/mount/other/blobs/${sha256(data)}`)).status, 200);
      },
    );
  });

  describe('manifests', () => {
    test('a Docker schema 2 image pushes by tag and pulls by tag and digest', async () => {
      const img = makeImage({ layers: [await randomLayer(2000)] });
      await pushImage(peer.url, 'man/docker', 'v1', img);
      for (const ref of ['v1', img.manifestDigest]) {
        const r = await call(p, 'GET', `/v2/man/docker/manifests/${ref}`, {
          headers: { accept: img.mediaType },
        });
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('content-type')?.split(';')[0], img.mediaType);
        assert.equal(r.headers.get('docker-content-digest'), img.manifestDigest);
        assert.ok(r.body.equals(img.manifest));
      }
      const head = await call(p, 'HEAD', '/v2/man/docker/manifests/v1', {
        headers: { accept: img.mediaType },
      });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(img.manifest.length));
    });

    test('an OCI index and a Docker manifest list push after their children', async () => {
      const layer = await randomLayer(100);
      for (const format of ['oci', 'docker'] as const) {
        const a = makeImage({ format, layers: [layer], architecture: 'amd64' });
        const b = makeImage({ format, layers: [layer], architecture: 'arm64' });
        const idx = makeIndex(
          [
            { image: a, architecture: 'amd64' },
            { image: b, architecture: 'arm64' },
          ],
          format,
        );
        await pushImage(peer.url, `man/${format}-list`, a.manifestDigest, a);
        await pushImage(peer.url, `man/${format}-list`, b.manifestDigest, b);
        const put = await call(p, 'PUT', `/v2/man/${format}-list/manifests/multi`, {
          headers: { 'content-type': idx.mediaType },
          body: idx.manifest,
        });
        assert.equal(put.status, 201);
        assert.equal(put.headers.get('docker-content-digest'), idx.manifestDigest);
        const get = await call(p, 'GET', `/v2/man/${format}-list/manifests/multi`, {
          headers: { accept: idx.mediaType },
        });
        assert.equal(get.headers.get('content-type')?.split(';')[0], idx.mediaType);
        assert.ok(get.body.equals(idx.manifest));
      }
    });

    test('a manifest whose blobs are missing is MANIFEST_BLOB_UNKNOWN', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushBlob(peer.url, 'man/missing', img.config);
      const r = await call(p, 'PUT', '/v2/man/missing/manifests/v1', {
        headers: { 'content-type': img.mediaType },
        body: img.manifest,
      });
      assert.equal(r.status, 400);
      assert.equal(r.code, 'MANIFEST_BLOB_UNKNOWN');
    });

    test('a manifest that does not parse, or contradicts its Content-Type, is MANIFEST_INVALID', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      for (const b of [...img.layers, img.config]) await pushBlob(peer.url, 'man/invalid', b);
      const garbage = await call(p, 'PUT', '/v2/man/invalid/manifests/v1', {
        headers: { 'content-type': img.mediaType },
        body: '{not json',
      });
      assert.equal(garbage.code, 'MANIFEST_INVALID');
      const mismatch = await call(p, 'PUT', '/v2/man/invalid/manifests/v1', {
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        body: img.manifest,
      });
      assert.equal(mismatch.status, 400);
      assert.equal(mismatch.code, 'MANIFEST_INVALID');
    });

    test('a manifest PUT by a digest that is not its own is refused', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      for (const b of [...img.layers, img.config]) await pushBlob(peer.url, 'man/wrongdigest', b);
      const r = await call(p, 'PUT', `/v2/man/wrongdigest/manifests/${sha256('other')}`, {
        headers: { 'content-type': img.mediaType },
        body: img.manifest,
      });
      assert.equal(r.status, 400);
      assert.equal(r.code, 'DIGEST_INVALID');
    });

    test('DELETE by digest removes the manifest and its tags', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushImage(peer.url, 'man/del', 'gone', img);
      assert.equal((await call(p, 'DELETE', `/v2/man/del/manifests/${img.manifestDigest}`)).status, 202);
      assert.equal((await call(p, 'GET', `/v2/man/del/manifests/${img.manifestDigest}`)).status, 404);
      assert.equal((await call(p, 'GET', '/v2/man/del/manifests/gone')).status, 404);
    });

    oursOnly('DELETE by tag removes only the tag', 'distribution 2.8 refuses tag deletion', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushImage(peer.url, 'man/deltag', 't1', img);
      assert.equal((await call(p, 'DELETE', '/v2/man/deltag/manifests/t1')).status, 202);
      assert.equal((await call(p, 'GET', '/v2/man/deltag/manifests/t1')).status, 404);
      assert.equal((await call(p, 'GET', `/v2/man/deltag/manifests/${img.manifestDigest}`)).status, 200);
    });
  });

  describe('content discovery', () => {
    test('the tags list names every tag', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      for (const t of ['v2', 'v1', 'latest']) await pushImage(peer.url, 'disc/all', t, img);
      const r = await call(p, 'GET', '/v2/disc/all/tags/list');
      assert.equal(r.json<{ name: string }>().name, 'disc/all');
      // Distribution 2.8 keeps directory order; the spec asks for lexical order only when paging.
      assert.deepEqual(r.json<{ tags: string[] }>().tags.sort(), ['latest', 'v1', 'v2']);
    });

    oursOnly(
      'tags list pages with n and last, and Link points at the next page',
      'distribution 2.8 does not page tags',
      async () => {
        const img = makeImage({ layers: [await randomLayer(100)] });
        const tags = ['a1', 'b2', 'c3', 'd4', 'e5'];
        for (const t of tags) await pushImage(peer.url, 'disc/tags', t, img);
        const seen: string[] = [];
        let next: string | undefined = '/v2/disc/tags/tags/list?n=2';
        while (next !== undefined) {
          const r = await call(p, 'GET', next);
          const page = r.json<{ name: string; tags: string[] }>();
          assert.equal(page.name, 'disc/tags');
          assert.ok(page.tags.length <= 2);
          seen.push(...page.tags);
          next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
        }
        assert.deepEqual(seen, tags);
        const afterB = await call(p, 'GET', '/v2/disc/tags/tags/list?last=b2');
        assert.deepEqual(afterB.json<{ tags: string[] }>().tags, ['c3', 'd4', 'e5']);
      },
    );

    test('the catalog lists repositories, paged the same way', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      for (const r of ['cat/x1', 'cat/x2', 'cat/x3']) await pushImage(peer.url, r, 'v', img);
      const seen: string[] = [];
      let next: string | undefined = '/v2/_catalog?n=2';
      while (next !== undefined) {
        const r = await call(p, 'GET', next);
        seen.push(...r.json<{ repositories: string[] }>().repositories);
        next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
      }
      assert.deepEqual(
        seen.filter((r) => r.startsWith('cat/')),
        ['cat/x1', 'cat/x2', 'cat/x3'],
      );
      assert.deepEqual(seen, [...seen].sort());
    });

    oursOnly('tags list with n=0 is empty', 'distribution 2.8 ignores n=0', async () => {
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushImage(peer.url, 'disc/zero', 'v', img);
      assert.deepEqual(
        (await call(p, 'GET', '/v2/disc/zero/tags/list?n=0')).json<{ tags: string[] }>().tags,
        [],
      );
    });

    oursOnly(
      'referrers: OCI-Subject on push, listing, artifactType filter',
      'distribution 2.8 has no referrers API',
      async () => {
        const img = makeImage({ format: 'oci', layers: [await randomLayer(100)] });
        await pushImage(peer.url, 'disc/ref', 'v1', img);
        const empty = Buffer.from('{}');
        await pushBlob(peer.url, 'disc/ref', { data: empty, digest: sha256(empty) });
        const referrer = (artifactType: string): Buffer =>
          Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              artifactType,
              config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
              layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }],
              subject: { mediaType: img.mediaType, digest: img.manifestDigest, size: img.manifest.length },
              annotations: { kind: artifactType },
            }),
          );
        for (const type of ['application/x.sbom', 'application/x.signature']) {
          const body = referrer(type);
          const put = await call(p, 'PUT', `/v2/disc/ref/manifests/${sha256(body)}`, {
            headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
            body,
          });
          assert.equal(put.status, 201);
          assert.equal(put.headers.get('oci-subject'), img.manifestDigest);
        }
        const all = await call(p, 'GET', `/v2/disc/ref/referrers/${img.manifestDigest}`);
        assert.equal(all.status, 200);
        assert.equal(all.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
        const list = all.json<{ manifests: { artifactType: string; digest: string }[] }>().manifests;
        assert.deepEqual(list.map((m) => m.artifactType).sort(), [
          'application/x.sbom',
          'application/x.signature',
        ]);
        const sbom = await call(
          p,
          'GET',
          `/v2/disc/ref/referrers/${img.manifestDigest}?artifactType=application/x.sbom`,
        );
        assert.equal(sbom.headers.get('oci-filters-applied'), 'artifactType');
        const only = sbom.json<{ manifests: { digest: string }[] }>().manifests;
        assert.deepEqual(
          only.map((m) => m.digest),
          [sha256(referrer('application/x.sbom'))],
        );
        const none = await call(p, 'GET', `/v2/disc/ref/referrers/${sha256('no subject')}`);
        assert.equal(none.status, 200);
        assert.deepEqual(none.json<{ manifests: unknown[] }>().manifests, []);
        // Deleting a referrer takes it out of the list.
        await call(p, 'DELETE', `/v2/disc/ref/manifests/${only[0]!.digest}`);
        const left = await call(p, 'GET', `/v2/disc/ref/referrers/${img.manifestDigest}`);
        assert.equal(left.json<{ manifests: unknown[] }>().manifests.length, 1);
      },
    );
  });
}
