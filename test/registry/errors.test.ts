import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { isRetryable, RegistryError, RegistrySession } from '../../src/registry/index.js';

/** A registry stand-in on a random loopback port that answers every request with `answer`. */
async function fakeRegistry(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const srv = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    answer(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { host, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

const session = (host: string, attempts = 1) =>
  new RegistrySession({
    registriesConf: false,
    credentials: () => undefined,
    insecure: [host],
    retry: { attempts, baseMs: 1, maxMs: 5 },
  });

test('a registry error is a RegistryError: status, method, URL, the diagnostics as sent, not retryable', async () => {
  const reg = await fakeRegistry((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        errors: [
          { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'nope' } },
          { code: 42 },
          'junk',
        ],
      }),
    );
  });
  const s = session(reg.host);
  try {
    const e = await s
      .client(reg.host)
      .getManifest('ns/img', 'nope')
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    assert.ok(e instanceof RegistryError, String(e));
    assert.equal(e.code, 'MANIFEST_UNKNOWN');
    assert.equal(e.status, 404);
    assert.equal(e.method, 'GET');
    assert.equal(e.url, `http://${reg.host}/v2/ns/img/manifests/nope`);
    // The malformed entries are dropped, the well-formed one kept with its detail.
    assert.deepEqual(e.diagnostics, [
      { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'nope' } },
    ]);
    assert.equal(e.retryable, false);
    assert.equal(isRetryable(e), false);
    assert.equal(e.exitStatus, 1);
    assert.match(e.message, /HTTP 404 MANIFEST_UNKNOWN: manifest unknown/);
  } finally {
    await s.close();
    await reg.close();
  }
});

test('a 503 with Retry-After is retryable, carries the wait, and a retry that succeeds hides it', async () => {
  let calls = 0;
  const reg = await fakeRegistry((_req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/html' }).end('<html>busy</html>\n');
      return;
    }
    res.writeHead(404).end();
  });
  const once = session(reg.host, 1);
  const twice = session(reg.host, 2);
  try {
    const e = await once
      .client(reg.host)
      .getManifest('ns/img', 'x')
      .catch((x: unknown) => x);
    assert.ok(e instanceof RegistryError);
    assert.equal(e.code, 'REGISTRY_HTTP');
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
    assert.equal(e.retryAfterMs, 0);
    assert.deepEqual(e.diagnostics, []);
    assert.match(e.message, /HTTP 503 <html>busy<\/html>/, 'a non-JSON body gives its first line');
    // The detail is the same record, for --json output.
    assert.deepEqual(e.detail, {
      status: 503,
      method: 'GET',
      url: e.url,
      diagnostics: [],
      retryable: true,
      retryAfterMs: 0,
    });
    calls = 0;
    const e2 = await twice
      .client(reg.host)
      .getManifest('ns/img', 'x')
      .catch((x: unknown) => x);
    assert.ok(e2 instanceof RegistryError);
    assert.equal(e2.status, 404, 'the second attempt ran after the retryable 503');
    assert.equal(calls, 2);
  } finally {
    await once.close();
    await twice.close();
    await reg.close();
  }
});

test('a refused connection is a RegistryError without a status, naming the URL', async () => {
  const reg = await fakeRegistry((_req, res) => res.end());
  const host = reg.host;
  await reg.close();
  const s = session(host);
  try {
    const e = await s
      .client(host)
      .ping()
      .catch((x: unknown) => x);
    assert.ok(e instanceof RegistryError, String(e));
    assert.equal(e.code, 'REGISTRY_UNREACHABLE');
    assert.equal(e.status, undefined);
    assert.match(e.url, new RegExp(`^http://${host}/v2/`));
  } finally {
    await s.close();
  }
});

test('DIGEST_INVALID is bad input: it exits 2, as the catalogue says', async () => {
  const { parseDigest } = await import('../../src/oci/digest.js');
  assert.throws(
    () => parseDigest('sha256:xyz'),
    (e: Error & { code: string; exitStatus: number }) => e.code === 'DIGEST_INVALID' && e.exitStatus === 2,
  );
});
