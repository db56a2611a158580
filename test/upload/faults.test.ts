import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RegistrySession } from '../../src/registry/index.js';
import { uploadImages } from '../../src/upload/index.js';
import { type RunningRegistry, startDistribution } from '../support/distribution.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
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
  file = await writeImagesFile(await mkdtemp(join(tmpdir(), 'faults-')), set.names, dstProxy.host);
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
    for (const [ref, digest] of set.expected) {
      if (ref.includes('svc1')) continue;
      const [repo, tag] = ref.split(':') as [string, string];
      assert.equal((await c.headManifest(repo, tag))?.digest, digest, ref);
    }
  } finally {
    await session.close();
  }
});
