/**
 * Bad input never crashes the server or escapes the store: hostile paths, malformed digests, bodies
 * shorter or longer than declared, wrong digests, oversized manifests, many clients racing on one
 * blob, and SIGKILL in the middle of uploads.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readlink, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitForHttp } from '../support/distribution.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { call, type Peer, startOurs } from './peers.js';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** rawStatus sends a path exactly as given (fetch would normalise `..` away) and returns the status. */
function rawStatus(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** rawExchange writes bytes on a socket, optionally half-closes, and collects whatever comes back. */
function rawExchange(port: number, data: Buffer, hangUp: boolean): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d.toString('latin1');
    });
    sock.on('error', () => resolve(got));
    sock.on('close', () => resolve(got));
    sock.write(data, () => {
      if (hangUp) sock.destroy();
      else setTimeout(() => sock.end(), 300);
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe('hostile input', () => {
  let peer: Peer;
  let port: number;
  before(async () => {
    peer = await startOurs();
    port = Number(new URL(peer.url).port);
  });
  after(() => peer.stop());

  test('path escapes are refused and create nothing outside the store', async () => {
    const paths = [
      '/v2/../../../../etc/passwd/tags/list',
      '/v2/%2e%2e/%2e%2e/etc/manifests/latest',
      '/v2/a/%2e%2e/%2e%2e/%2e%2e/tmp/x/blobs/uploads/',
      '/v2//etc/blobs/uploads/',
      '/v2/a%2f..%2f..%2fb/tags/list',
      '/v2/a/manifests/..',
      '/v2/a/manifests/%2e%2e%2f%2e%2e%2fescape',
      '/v2/a/blobs/uploads/..%2f..%2f..%2fescape',
      '/v2/a/blobs/uploads/../../../escape',
      `/v2/a/blobs/sha256:..%2f..%2f${'a'.repeat(58)}`,
      '/v2/a/referrers/..',
      '/v2/a\\..\\b/tags/list',
    ];
    for (const method of ['GET', 'PUT', 'POST', 'PATCH', 'DELETE']) {
      for (const p of paths) {
        const status = await rawStatus(port, method, p);
        assert.ok(status >= 400 && status < 500, `${method} ${p} -> ${status}`);
      }
    }
    const files = await listFiles(peer.root);
    assert.deepEqual(files, [], `store should still be empty: ${files.join(', ')}`);
    assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
  });

  test('malformed digests are DIGEST_INVALID everywhere', async () => {
    for (const d of [
      'sha256:',
      'sha256:ABC',
      `sha256:${'A'.repeat(64)}`,
      'md5:abc',
      `sha256:${'a'.repeat(63)}`,
    ]) {
      assert.equal((await call(peer, 'GET', `/v2/a/blobs/${d}`)).code, 'DIGEST_INVALID', d);
      assert.equal(
        (await call(peer, 'POST', `/v2/a/blobs/uploads/?digest=${d}`, { body: 'x' })).code,
        'DIGEST_INVALID',
      );
      assert.equal(
        (await call(peer, 'POST', `/v2/a/blobs/uploads/?mount=${d}&from=b`)).code,
        'DIGEST_INVALID',
      );
    }
  });

  test('a body shorter than declared leaves no blob and a session back at its old offset', async () => {
    const data = randomBytes(1000);
    const post = await call(peer, 'POST', '/v2/short/blobs/uploads/');
    const loc = post.headers.get('location') ?? '';
    const head = `PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`;
    await rawExchange(port, Buffer.concat([Buffer.from(head), data.subarray(0, 500)]), true);
    // The server notices the hang-up asynchronously; poll the status until the chunk is rolled back.
    let range = '';
    for (let i = 0; i < 50 && range !== '0-0'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      range = (await call(peer, 'GET', loc)).headers.get('range') ?? '';
    }
    assert.equal(range, '0-0');
    const mono = `POST /v2/short/blobs/uploads/?digest=${sha256(data)} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`;
    await rawExchange(port, Buffer.concat([Buffer.from(mono), data.subarray(0, 10)]), true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await call(peer, 'HEAD', `/v2/short/blobs/${sha256(data)}`)).status, 404);
    assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
    assert.equal((await call(peer, 'DELETE', loc)).status, 204);
  });

  test('a body longer than declared: only the declared bytes count, the rest is a bad request', async () => {
    const data = randomBytes(20);
    const req = `POST /v2/long/blobs/uploads/?digest=${sha256(data)} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n`;
    const reply = await rawExchange(port, Buffer.concat([Buffer.from(req), data]), false);
    // Either our DIGEST_INVALID or Node's parser refusing the surplus as a request: 400, connection closed.
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await call(peer, 'HEAD', `/v2/long/blobs/${sha256(data)}`)).status, 404);
    assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
  });

  test('a monolithic upload with the wrong digest is refused', async () => {
    const r = await call(peer, 'POST', `/v2/wrong/blobs/uploads/?digest=${sha256('other')}`, {
      body: randomBytes(100),
    });
    assert.equal(r.status, 400);
    assert.equal(r.code, 'DIGEST_INVALID');
    assert.deepEqual(await readdir(join(peer.root, 'uploads')), []);
  });

  test('manifests over 4 MiB are refused, with or without Content-Length', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    const ct = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
    const declared = await call(peer, 'PUT', '/v2/big/manifests/v1', { headers: ct, body: big });
    assert.equal(declared.status, 413);
    assert.equal(declared.code, 'SIZE_INVALID');
    const streamed = await fetch(`${peer.url}/v2/big/manifests/v1`, {
      method: 'PUT',
      headers: ct,
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    await streamed.arrayBuffer();
    assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
  });

  test('twenty clients uploading the same blob at once all succeed; it is stored once', async () => {
    const data = randomBytes(2 * 1024 * 1024);
    const d = sha256(data);
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const repo = `race/r${i % 4}`;
        if (i % 2 === 0) {
          const r = await call(peer, 'POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, { body: data });
          assert.equal(r.status, 201);
          return;
        }
        const post = await call(peer, 'POST', `/v2/${repo}/blobs/uploads/`);
        const loc = new URL(post.headers.get('location') ?? '', peer.url);
        const half = data.length / 2;
        await call(peer, 'PATCH', loc.href, {
          headers: { 'content-range': `0-${half - 1}` },
          body: data.subarray(0, half),
        });
        loc.searchParams.set('digest', d);
        const put = await call(peer, 'PUT', loc.href, {
          headers: { 'content-range': `${half}-${data.length - 1}` },
          body: data.subarray(half),
        });
        assert.equal(put.status, 201);
      }),
    );
    for (let i = 0; i < 4; i++)
      assert.ok((await call(peer, 'GET', `/v2/race/r${i}/blobs/${d}`)).body.equals(data));
    const blobs = (await listFiles(join(peer.root, 'blobs'))).filter((f) => f.endsWith(d.slice(7)));
    assert.equal(blobs.length, 1);
    assert.deepEqual(await readdir(join(peer.root, 'uploads')), []);
  });
  test('clients that hang up mid-download leave no open file behind; others still get every byte', async () => {
    const data = randomBytes(24 * 1024 * 1024);
    const d = sha256(data);
    assert.equal(
      (await call(peer, 'POST', `/v2/dl/abort/blobs/uploads/?digest=${d}`, { body: data })).status,
      201,
    );
    // Open files of this process that lie in the store (the server runs in-process).
    const storeFiles = async () => {
      let n = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(peer.root)) n++;
      }
      return n;
    };
    // Each reader takes the headers and the first bytes, then destroys its socket.
    const hangUp = () =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: `/v2/dl/abort/blobs/${d}` }, (res) => {
          assert.equal(res.statusCode, 200);
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (e) => (req.destroyed ? resolve() : reject(e)));
        req.end();
      });
    await Promise.all(Array.from({ length: 8 }, hangUp));
    const whole = await call(peer, 'GET', `/v2/dl/abort/blobs/${d}`);
    assert.ok(whole.body.equals(data));
    // The server closes each aborted download's file once it notices the hang-up.
    for (let i = 0; i < 50 && (await storeFiles()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await storeFiles(), 0, 'a file of an aborted download stayed open');
  });
});

describe('SIGKILL during uploads', () => {
  const bin = join(process.cwd(), 'bin', 'overcloud');
  let root: string;
  let child: ChildProcess | undefined;
  let base: Peer;

  before(async () => {
    base = await startOurs(); // only for its temporary root folder, reused by the child processes
    root = base.root;
  });
  after(async () => {
    child?.kill('SIGKILL');
    await base.stop();
  });

  async function serve(port: number): Promise<ChildProcess> {
    const c = spawn(
      bin,
      ['registry', 'serve', '--quiet', '--root', join(root, 'child'), '--listen', `127.0.0.1:${port}`],
      {
        stdio: 'ignore',
      },
    );
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    return c;
  }

  test('no partial blob becomes visible; everything committed is served after restart', async () => {
    const port = await freePort();
    child = await serve(port);
    const url = `http://127.0.0.1:${port}`;
    const img = makeImage({ layers: [await randomLayer(300_000)] });
    await pushImage(url, 'killed/app', 'v1', img);
    // A chunked session with one committed chunk, then two uploads cut off mid-body by the kill.
    const big = randomBytes(8 * 1024 * 1024);
    const post = await call({ url }, 'POST', '/v2/killed/app/blobs/uploads/');
    const loc = post.headers.get('location') ?? '';
    await call({ url }, 'PATCH', loc, { headers: { 'content-range': '0-999' }, body: big.subarray(0, 1000) });
    const cut = (path: string, method: string): Promise<string> => {
      const head = `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n`;
      return rawExchange(port, Buffer.concat([Buffer.from(head), big.subarray(0, big.length / 2)]), false);
    };
    void cut(`/v2/killed/app/blobs/uploads/?digest=${sha256(big)}`, 'POST');
    const post2 = await call({ url }, 'POST', '/v2/killed/app/blobs/uploads/');
    void cut(`${post2.headers.get('location')}?digest=${sha256(big)}`, 'PUT');
    // Wait until the half bodies are on disk, then kill without warning.
    const uploads = join(root, 'child', 'uploads');
    for (let i = 0; i < 200; i++) {
      const sizes = await Promise.all(
        (await readdir(uploads)).map((id) =>
          stat(join(uploads, id, 'data')).then(
            (s) => s.size,
            () => 0,
          ),
        ),
      );
      if (sizes.filter((s) => s >= big.length / 2).length >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    child = await serve(port);
    assert.equal((await call({ url }, 'HEAD', `/v2/killed/app/blobs/${sha256(big)}`)).status, 404);
    const blobFiles = await listFiles(join(root, 'child', 'blobs'));
    assert.ok(!blobFiles.some((f) => f.endsWith(sha256(big).slice(7))), 'no partial blob in the store');
    const got = await call({ url }, 'GET', '/v2/killed/app/manifests/v1', {
      headers: { accept: img.mediaType },
    });
    assert.ok(got.body.equals(img.manifest));
    for (const b of [...img.layers, img.config]) {
      assert.ok((await call({ url }, 'GET', `/v2/killed/app/blobs/${b.digest}`)).body.equals(b.data));
    }
    // The session that survived resumes where it was and commits (its hash is rebuilt from disk).
    const status = await call({ url }, 'GET', loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-999');
    const finish = new URL(loc, url);
    finish.searchParams.set('digest', sha256(big));
    const put = await call({ url }, 'PUT', finish.href, {
      headers: { 'content-range': `1000-${big.length - 1}` },
      body: big.subarray(1000),
    });
    assert.equal(put.status, 201);
    assert.ok((await call({ url }, 'GET', `/v2/killed/app/blobs/${sha256(big)}`)).body.equals(big));
    const exited2 = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    assert.equal(await exited2, 0);
    child = undefined;
  });
});
