/** Basic auth (htpasswd, bcrypt), anonymous pulls, read-only mode, TLS, delete switch, health and log. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { startRegistryServer } from '../../src/server/index.js';
import { run } from '../support/exec.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { call, startOurs } from './peers.js';

let dir: string;
let htpasswd: string;
const auth = (user: string, pass: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
});
const GOOD = auth('admin', 's3cret');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'registry-access-'));
  htpasswd = join(dir, 'htpasswd');
  // The `$2y$` prefix is what `htpasswd -B` writes.
  await writeFile(htpasswd, `admin:${bcrypt.hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

describe('htpasswd', () => {
  test('every request needs credentials; wrong ones are 401 with a Basic challenge', async () => {
    const peer = await startOurs({ htpasswd });
    try {
      const anon = await call(peer, 'GET', '/v2/');
      assert.equal(anon.status, 401);
      assert.equal(anon.code, 'UNAUTHORIZED');
      assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.equal((await call(peer, 'GET', '/v2/', { headers: auth('admin', 'wrong') })).status, 401);
      assert.equal((await call(peer, 'GET', '/v2/', { headers: auth('nobody', 's3cret') })).status, 401);
      assert.equal((await call(peer, 'GET', '/v2/', { headers: GOOD })).status, 200);
      assert.equal((await call(peer, 'GET', '/v2/_catalog')).status, 401);
      assert.equal((await call(peer, 'GET', '/healthz')).status, 200);
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushImage(peer.url, 'auth/app', 'v1', img, GOOD);
      assert.equal((await call(peer, 'GET', '/v2/auth/app/manifests/v1')).status, 401);
      await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--creds',
        'admin:s3cret',
        `docker://${peer.host}/auth/app:v1`,
      ]);
      await assert.rejects(
        run('skopeo', [
          'inspect',
          '--tls-verify=false',
          '--creds',
          'admin:nope',
          `docker://${peer.host}/auth/app:v1`,
        ]),
      );
    } finally {
      await peer.stop();
    }
  });

  test('--allow-anonymous-pull lets reads through and still guards writes', async () => {
    const peer = await startOurs({ htpasswd, allowAnonymousPull: true });
    try {
      const img = makeImage({ layers: [await randomLayer(100)] });
      await pushImage(peer.url, 'anon/app', 'v1', img, GOOD);
      assert.equal(
        (await call(peer, 'GET', '/v2/anon/app/manifests/v1', { headers: { accept: img.mediaType } })).status,
        200,
      );
      assert.equal((await call(peer, 'GET', `/v2/anon/app/blobs/${img.config.digest}`)).status, 200);
      assert.equal((await call(peer, 'POST', '/v2/anon/app/blobs/uploads/')).status, 401);
      assert.equal((await call(peer, 'DELETE', `/v2/anon/app/manifests/${img.manifestDigest}`)).status, 401);
      assert.equal(
        (await call(peer, 'GET', '/v2/anon/app/tags/list', { headers: auth('admin', 'bad') })).status,
        401,
      );
      await run('skopeo', ['inspect', '--tls-verify=false', `docker://${peer.host}/anon/app:v1`]);
    } finally {
      await peer.stop();
    }
  });
});

test('--read-only refuses pushes and deletes but serves pulls', async () => {
  const img = makeImage({ layers: [await randomLayer(100)] });
  const root = join(dir, 'ro');
  const seed = await startRegistryServer({ root, listen: '127.0.0.1:0' });
  await pushImage(seed.url, 'ro/app', 'v1', img);
  await seed.close();
  const ro = await startRegistryServer({ root, listen: '127.0.0.1:0', readOnly: true, enableDelete: true });
  try {
    assert.equal(
      (await call(ro, 'GET', '/v2/ro/app/manifests/v1', { headers: { accept: img.mediaType } })).status,
      200,
    );
    const post = await call(ro, 'POST', '/v2/ro/app/blobs/uploads/');
    assert.equal(post.status, 405);
    assert.equal(post.code, 'UNSUPPORTED');
    assert.equal((await call(ro, 'PUT', '/v2/ro/app/manifests/v2', { body: img.manifest })).status, 405);
    assert.equal((await call(ro, 'DELETE', `/v2/ro/app/manifests/${img.manifestDigest}`)).status, 405);
  } finally {
    await ro.close();
  }
});

test('deletes are refused unless enabled', async () => {
  const peer = await startOurs({ enableDelete: false });
  try {
    const img = makeImage({ layers: [await randomLayer(100)] });
    await pushImage(peer.url, 'nodel/app', 'v1', img);
    const r = await call(peer, 'DELETE', `/v2/nodel/app/manifests/${img.manifestDigest}`);
    assert.equal(r.status, 405);
    assert.equal(r.code, 'UNSUPPORTED');
    assert.equal((await call(peer, 'DELETE', `/v2/nodel/app/blobs/${img.config.digest}`)).status, 405);
  } finally {
    await peer.stop();
  }
});

test('TLS: HTTPS with the given certificate; skopeo pushes and verifies against the CA', async () => {
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { recursive: true });
  const key = join(dir, 'key.pem');
  const cert = join(certDir, 'ca.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]),
    { stdio: 'ignore' },
  );
  const caPem = await readFile(cert);
  const [plain, tls] = await Promise.all([startOurs(), startOurs({ tls: { cert, key } })]);
  try {
    assert.match(tls.url, /^https:/);
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpsGet(`${tls.url}/v2/`, { ca: caPem }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 200);
    const img = makeImage({ layers: [await randomLayer(100)] });
    await pushImage(plain.url, 'tls/app', 'v1', img);
    await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `--dest-cert-dir=${certDir}`,
      `docker://${plain.host}/tls/app:v1`,
      `docker://${tls.host}/tls/app:v1`,
    ]);
    const info = await run('skopeo', ['inspect', `--cert-dir=${certDir}`, `docker://${tls.host}/tls/app:v1`]);
    assert.equal((JSON.parse(info.stdout) as { Digest: string }).Digest, img.manifestDigest);
    // Without the CA the certificate is not trusted: proof that TLS is really in use.
    await assert.rejects(run('skopeo', ['inspect', `docker://${tls.host}/tls/app:v1`]), /certificate|x509/);
  } finally {
    await Promise.all([plain.stop(), tls.stop()]);
  }
});

test('GET /healthz answers JSON, and every request is logged in Common Log Format', async () => {
  const lines: string[] = [];
  const peer = await startOurs({ log: (l) => lines.push(l) });
  try {
    const h = await call(peer, 'GET', '/healthz');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json(), { status: 'ok' });
    await call(peer, 'GET', '/v2/none/manifests/x');
    await new Promise((r) => setTimeout(r, 20));
    assert.match(
      lines[0] ?? '',
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/healthz HTTP\/1\.1" 200 \d+$/,
    );
    assert.match(lines[1] ?? '', /"GET \/v2\/none\/manifests\/x HTTP\/1\.1" 404 \d+$/);
  } finally {
    await peer.stop();
  }
});
