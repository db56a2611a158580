import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RegistrySession } from '../../src/registry/index.js';
import { uploadImages } from '../../src/upload/index.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { scratchDir } from '../support/tmp.js';
import { type FixtureSet, makeFixtureSet, writeImagesFile } from '../support/upload-fixtures.js';

let src: RunningRegistry;
let basic: RunningRegistry;
let plain: RunningRegistry;
let gate: FaultProxy;
let set: FixtureSet;
let dir: string;
const issued = new Map<string, number>();
const TOKEN_LIFE_MS = 1500;

before(async () => {
  dir = scratchDir('auth');
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, execFileSync('htpasswd', ['-Bbn', 'admin', 's3cret']));
  [src, basic, plain] = await Promise.all([
    startDistribution(),
    startDistribution({ htpasswd }),
    startDistribution(),
  ]);
  set = await makeFixtureSet(src.url, src.host, { count: 1 });
  // A tiny token server and gate: tokens live 1.5 s but claim 300 s, so the client meets a 401
  // mid-run and must refresh.
  gate = await startFaultProxy(plain.url, (r) => {
    if (r.url.startsWith('/token')) {
      const q = new URL(r.url, 'http://x').searchParams;
      const token = `t${issued.size}`;
      issued.set(token, Date.now());
      return {
        respond: { status: 200, body: JSON.stringify({ token, expires_in: 300, scope: q.getAll('scope') }) },
      };
    }
    const t = /^Bearer (\S+)$/.exec(r.headers.authorization ?? '')?.[1];
    const at = t ? issued.get(t) : undefined;
    if (at === undefined || Date.now() - at > TOKEN_LIFE_MS) {
      return {
        respond: {
          status: 401,
          headers: {
            'www-authenticate': `Bearer realm="http://${gate.host}/token",service="test",error="invalid_token"`,
          },
          body: '{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}',
        },
      };
    }
    return undefined;
  });
});
after(async () => {
  await gate.close();
  await Promise.all([src.stop(), basic.stop(), plain.stop()]);
});

test('Basic auth from an auth file; without credentials the images fail with a login hint', async () => {
  const authfile = join(dir, 'auth.json');
  await writeFile(
    authfile,
    JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from('admin:s3cret').toString('base64') } } }),
  );
  const file = await writeImagesFile(dir, set.names, basic.host);
  const ok = await uploadImages({ configFiles: [file], registriesConf: false, authfile });
  assert.equal(ok.images_failed, 0, JSON.stringify(ok.failures));
  const denied = await uploadImages({
    configFiles: [file],
    registriesConf: false,
    credentials: () => undefined,
    retry: { attempts: 1, baseMs: 1, maxMs: 1 },
  });
  // The tags are there already; HEAD without credentials fails, so every image is tried and refused.
  assert.equal(denied.images_failed, set.expected.size);
  assert.match(denied.failures[0]?.reason ?? '', /login|401|Basic/i);
});

test('Bearer tokens: fetched per scope, reused, refreshed on a 401 mid-run', async () => {
  const file = await writeImagesFile(dir, set.names, gate.host);
  const summary = await uploadImages({
    configFiles: [file],
    registriesConf: false,
    credentials: () => undefined,
  });
  assert.equal(summary.images_failed, 0, JSON.stringify(summary.failures));
  const session = new RegistrySession({ registriesConf: false, credentials: () => undefined });
  try {
    const c = session.client(gate.host);
    await c.getManifest('tripleomaster/centos-binary-svc0', 'current');
    const before = issued.size;
    await c.getManifest('tripleomaster/centos-binary-svc0', 'current');
    assert.equal(issued.size, before, 'the cached token was reused');
    await new Promise((r) => setTimeout(r, TOKEN_LIFE_MS + 100));
    await c.getManifest('tripleomaster/centos-binary-svc0', 'current');
    assert.equal(issued.size, before + 1, 'the expired token was refreshed once');
  } finally {
    await session.close();
  }
});
