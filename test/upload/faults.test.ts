import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RegistryClient, RegistrySession } from '../../src/registry/index.js';
import { startRegistryServer } from '../../src/server/index.js';
import { uploadImages } from '../../src/upload/index.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { scratchDir } from '../support/tmp.js';
import { type FixtureSet, makeFixtureSet, writeImagesFile } from '../support/upload-fixtures.js';

let src: RunningRegistry;
let dst: RunningRegistry;
let srcProxy: FaultProxy;
let dstProxy: FaultProxy;
let set: FixtureSet;
let file: string;
const opts = {
  registriesConf: false,
  credentials: () => undefined,
  retry: { attempts: 4, baseMs: 20, maxMs: 100 },
};

before(async () => {
  [src, dst] = await Promise.all([startDistribution(), startDistribution()]);
  srcProxy = await startFaultProxy(src.url);
  dstProxy = await startFaultProxy(dst.url);
  set = await makeFixtureSet(src.url, srcProxy.host, { count: 3, layerSize: 512 * 1024 });
  file = await writeImagesFile(scratchDir('faults'), set.names, dstProxy.host);
});
after(async () => {
  await Promise.all([srcProxy.close(), dstProxy.close()]);
  await Promise.all([src.stop(), dst.stop()]);
});

test('5xx, 429 with Retry-After, resets mid-blob and a flipped byte: recover or refuse by name', async () => {
  const svc0 = set.ownLayer.get('tripleomaster/centos-binary-svc0') ?? '';
  const svc1 = set.ownLayer.get('tripleomaster/centos-binary-svc1') ?? '';
  const svc2 = set.ownLayer.get('tripleomaster/centos-binary-svc2') ?? '';
  const seen = new Map<string, number>();
  const nth = (key: string): number => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n;
  };
  srcProxy.setRule((r) => {
    if (r.method === 'GET' && r.url.includes('svc2/manifests/current') && nth('m') === 1) {
      return { respond: { status: 503, body: 'busy' } };
    }
    if (r.method !== 'GET') return undefined;
    if (r.url.endsWith(svc0) && nth('reset') === 1) return { resetAfterBytes: 200_000 };
    if (r.url.endsWith(svc2) && nth('429') === 1) {
      return {
        respond: {
          status: 429,
          headers: { 'retry-after': '1' },
          body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}',
        },
      };
    }
    // Corrupt on every attempt: a retry cannot fix it.
    if (r.url.endsWith(svc1)) return { flipByteAt: 1000 };
    return undefined;
  });
  dstProxy.setRule((r) =>
    r.method === 'PUT' && r.url.includes('/blobs/uploads/') && nth('put') === 1
      ? { respond: { status: 500 } }
      : undefined,
  );
  const t0 = Date.now();
  const summary = await uploadImages({ ...opts, configFiles: [file] });
  assert.ok(Date.now() - t0 >= 1000, 'Retry-After: 1 was honoured');
  assert.equal(summary.images_failed, 1, JSON.stringify(summary.failures));
  const failure = summary.failures[0];
  assert.match(failure?.image ?? '', /centos-binary-svc1/);
  assert.match(failure?.reason ?? '', new RegExp(`${svc1}.*(DIGEST|digest)`));
  assert.equal(summary.images_copied, set.expected.size - 1);
  // The reset download resumed with a Range request rather than starting again (a reset may
  // discard some bytes in flight, so the offset is at most where the proxy cut).
  const ranges = srcProxy.log
    .filter((r) => r.url.endsWith(svc0) && r.headers.range)
    .map((r) => String(r.headers.range));
  assert.equal(
    ranges.length,
    1,
    JSON.stringify(srcProxy.log.filter((r) => r.url.endsWith(svc0)).map((r) => r.headers.range ?? 'full')),
  );
  const offset = Number(/^bytes=(\d+)-$/.exec(ranges[0] ?? '')?.[1]);
  assert.ok(offset > 0 && offset <= 200_000, ranges[0]);
  const session = new RegistrySession(opts);
  try {
    const c = session.client(dst.host);
    assert.equal(await c.headManifest('tripleomaster/centos-binary-svc1', 'current'), undefined);
    assert.equal(
      await c.blobExists('tripleomaster/centos-binary-svc1', {
        mediaType: '',
        digest: svc1 as never,
        size: 0,
      }),
      false,
    );
    await assertAllButSvc1(c);
  } finally {
    await session.close();
  }
});

/** assertAllButSvc1: every image but the corrupt svc1 is at the destination, with its digest. */
async function assertAllButSvc1(c: RegistryClient): Promise<void> {
  for (const [ref, digest] of set.expected) {
    if (ref.includes('svc1')) continue;
    const [repo, tag] = ref.split(':') as [string, string];
    assert.equal((await c.headManifest(repo, tag))?.digest, digest, ref);
  }
}

/** Chunked copies through a proxy that refuses each session's 2nd PATCH, and loses the reply to the first 3rd PATCH. */
async function chunkedThroughFaults(dest: {
  url: string;
  host: string;
}): Promise<{ restartedFromZero: number }> {
  const proxy = await startFaultProxy(dest.url);
  try {
    const file2 = await writeImagesFile(scratchDir('faults'), set.names, proxy.host);
    const patches = new Map<string, number>();
    let lostReply = false;
    proxy.setRule((r) => {
      if (r.method !== 'PATCH') return undefined;
      const session = new URL(r.url, 'http://x').pathname;
      const n = (patches.get(session) ?? 0) + 1;
      patches.set(session, n);
      // Never reaches the registry: the session is where it was.
      if (n === 2) return { respond: { status: 503 } };
      // Reaches the registry, which takes the bytes; the client hears 500.
      if (n === 3 && !lostReply) {
        lostReply = true;
        return { replaceStatus: 500 };
      }
      return undefined;
    });
    // svc1's layer arrives corrupt on every read, as in the test above.
    const svc1 = set.ownLayer.get('tripleomaster/centos-binary-svc1') ?? '';
    srcProxy.setRule((r) => (r.method === 'GET' && r.url.endsWith(svc1) ? { flipByteAt: 1000 } : undefined));
    const before = srcProxy.log.length;
    const summary = await uploadImages({
      ...opts,
      configFiles: [file2],
      push: { monolithicMax: 0, chunkSize: 128 * 1024 },
    });
    assert.ok(lostReply, 'a session reached a third PATCH');
    assert.equal(summary.images_failed, 1, JSON.stringify(summary.failures));
    assert.match(summary.failures[0]?.image ?? '', /centos-binary-svc1/);
    assert.match(summary.failures[0]?.reason ?? '', /DIGEST|digest/);
    assert.equal(summary.images_copied, set.expected.size - 1);
    const session = new RegistrySession(opts);
    try {
      await assertAllButSvc1(session.client(new URL(dest.url).host));
    } finally {
      await session.close();
    }
    // Every source read is a range; count how often a blob was read again from byte 0.
    const fromZero = new Map<string, number>();
    for (const g of srcProxy.log.slice(before)) {
      if (g.method !== 'GET' || !g.url.includes('/blobs/')) continue;
      assert.match(String(g.headers.range), /^bytes=\d+-\d+$/, g.url);
      const digest = g.url.slice(g.url.lastIndexOf('/') + 1);
      if (String(g.headers.range).startsWith('bytes=0-'))
        fromZero.set(digest, (fromZero.get(digest) ?? 0) + 1);
    }
    return { restartedFromZero: [...fromZero.values()].reduce((s, n) => s + n - 1, 0) };
  } finally {
    await proxy.close();
  }
}

test('chunked uploads resume after a refused PATCH; a lost reply restarts at most its one blob (distribution)', async () => {
  const dst2 = await startDistribution();
  try {
    // Distribution's location after the lost reply is stale, so that one blob starts over once.
    assert.deepEqual(await chunkedThroughFaults(dst2), { restartedFromZero: 1 });
  } finally {
    await dst2.stop();
  }
});

test('chunked uploads into our registry resume after a refused PATCH and after a lost reply, no restart', async () => {
  const root = await mkdtemp(join(tmpdir(), 'faults-own-'));
  const own = await startRegistryServer({ root, listen: '127.0.0.1:0' });
  try {
    assert.deepEqual(await chunkedThroughFaults(own), { restartedFromZero: 0 });
  } finally {
    await own.close();
    await rm(root, { recursive: true, force: true });
  }
});
