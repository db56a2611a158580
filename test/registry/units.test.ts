import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256Of } from '../../src/oci/digest.js';
import {
  backoffMs,
  insecureFromToml,
  isLoopbackHost,
  loadCredentials,
  parseChallenge,
  parseManifest,
  probeRegistryTransport,
  RegistrySession,
} from '../../src/registry/index.js';
import { startDistribution } from '../support/distribution.js';
import { scratchDir } from '../support/tmp.js';

test('parseChallenge reads Bearer and Basic challenges', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"',
    ),
    {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry', scope: 'repository:a/b:pull' },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="test"'), { scheme: 'basic', params: { realm: 'test' } });
  assert.equal(parseChallenge(undefined), undefined);
});

test('registries.conf: v2 [[registry]] tables and the v1 insecure list', () => {
  const text = `
unqualified-search-registries = ["example.com"]  # comment
[[registry]]
location = "reg.example:5000"
insecure = true
[[registry]]
location = "secure.example"
insecure = false
[[registry]]
prefix = "other.example/ns" # a prefix
insecure = true
[registries.insecure]
registries = [
  'v1.example',
  "v1b.example:8787",
]
`;
  assert.deepEqual(insecureFromToml(text), [
    'reg.example:5000',
    'other.example/ns',
    'v1.example',
    'v1b.example:8787',
  ]);
  // The parser is a real TOML one: inline tables, literal strings, and a syntax error with its place.
  assert.deepEqual(insecureFromToml("registry = [{ location = 'a.example', insecure = true }]\n"), [
    'a.example',
  ]);
  assert.throws(
    () => insecureFromToml('[[registry]]\nlocation = "x.example"\ninsecure = yes\n', '/etc/x.conf'),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'TOML_INVALID');
      assert.match(e.message, /^\/etc\/x\.conf:3:\d+: /);
      return true;
    },
  );
});

test('credentials: search order, docker.io key normalisation, explicit file must exist', () => {
  const dir = scratchDir('auth');
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  writeFileSync(a, JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } }));
  writeFileSync(b, JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('u:p:with:colons') } } }));
  const env = { REGISTRY_AUTH_FILE: b, HOME: dir };
  const creds = loadCredentials(a, env);
  assert.deepEqual(creds('docker.io'), { username: 'hub', password: 'pw' });
  assert.deepEqual(creds('reg.example:5000'), { username: 'u', password: 'p:with:colons' });
  assert.equal(creds('nowhere.example'), undefined);
  assert.throws(() => loadCredentials(join(dir, 'missing.json'), env), { code: 'FILE_NOT_FOUND' });
});

test('parseManifest refuses schema 1 by name and checks the digest asked for', () => {
  const s1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] }));
  assert.throws(
    () => parseManifest(s1, undefined, 'reg/old:1'),
    (e: Error & { code: string }) => {
      assert.equal(e.code, 'MANIFEST_UNSUPPORTED');
      assert.match(e.message, /reg\/old:1.*schema 1/);
      return true;
    },
  );
  const m = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));
  assert.equal(parseManifest(m, undefined, 'x').kind, 'index');
  assert.throws(() => parseManifest(m, undefined, 'x', sha256Of('other')), { code: 'DIGEST_MISMATCH' });
  const bad = Buffer.from(
    JSON.stringify({ schemaVersion: 2, config: { digest: '../../etc', size: 1 }, layers: [] }),
  );
  assert.throws(() => parseManifest(bad, undefined, 'x'), { code: 'MANIFEST_INVALID' });
});

test('back-off grows exponentially with jitter and a cap; loopback detection', () => {
  const o = { attempts: 5, baseMs: 100, maxMs: 1000 };
  assert.equal(
    backoffMs(1, o, () => 0),
    50,
  );
  assert.equal(
    backoffMs(3, o, () => 1),
    400,
  );
  assert.equal(
    backoffMs(10, o, () => 1),
    1000,
  );
  for (const h of ['127.0.0.1:5000', 'localhost:8787', '127.9.9.9', '[::1]:80'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['128.0.0.1', '192.168.24.1:8787', 'docker.io', 'localhost.example']) {
    assert.ok(!isLoopbackHost(h), h);
  }
});

test('probeRegistryTransport and the scheme hints, against plain HTTP and self-signed TLS', async () => {
  const dir = scratchDir('tls');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const tls = createHttpsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{}');
    },
  );
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
  const tlsHost = `127.0.0.1:${(tls.address() as AddressInfo).port}`;
  const plain = await startDistribution();
  try {
    assert.equal(await probeRegistryTransport(plain.host), 'http');
    assert.equal(await probeRegistryTransport(tlsHost), 'https-unverified');
    const closed = await startDistribution();
    await closed.stop();
    assert.equal(await probeRegistryTransport(closed.host), 'unreachable');
    // Loopback is plain HTTP by default, yet a TLS registry there is still found (unverified).
    const s = new RegistrySession({
      registriesConf: false,
      credentials: () => undefined,
      retry: { attempts: 1, baseMs: 1, maxMs: 1 },
    });
    await s.client(tlsHost).ping();
    assert.equal(await s.transport.scheme(tlsHost), 'https-unverified');
    // A plain registry addressed over TLS gets the insecure hint.
    const { request } = await import('../../src/registry/undici.js');
    const { networkError } = await import('../../src/registry/errors.js');
    const url = new URL(`https://${plain.host}/v2/`);
    const err = await request(url, { dispatcher: s.transport.dispatcher('https') }).then(
      () => undefined,
      (e: unknown) => networkError(e, 'GET', url),
    );
    assert.equal(err?.code, 'TLS_MISMATCH');
    assert.match(err?.hint ?? '', /answers plain HTTP.*insecure/);
    await s.close();
  } finally {
    await plain.stop();
    await new Promise((r) => tls.close(r));
  }
});
