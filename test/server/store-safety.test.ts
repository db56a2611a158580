/**
 * The store itself: modes follow the auth setting, nothing is followed through a symlink, `--fsync`
 * pushes work, gc counts a blob's age from its commit, and start-up problems are clear.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { checkStore, collectGarbage, startRegistryServer } from '../../src/server/index.js';
import { makeImage, pushImage, randomLayer } from '../support/images.js';
import { scratchDir } from '../support/tmp.js';
import { call, type Peer, startOurs } from './peers.js';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blobFile = (root: string, d: string) => join(root, 'blobs', 'sha256', d.slice(7, 9), d.slice(7));
const mode = async (p: string) => (await stat(p)).mode & 0o777;
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.stop();
});

test('with auth on the store is its owner only (0700 folders, 0600 files)', async () => {
  const file = join(scratchDir('htpasswd'), 'htpasswd');
  await writeFile(file, `u:${bcrypt.hashSync('p', 4)}\n`);
  const peer = await startOurs({ htpasswd: file });
  peers.push(peer);
  const auth = { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` };
  const img = makeImage({ layers: [await randomLayer(200)] });
  await pushImage(peer.url, 'priv/app', 'v1', img, auth);
  await call(peer, 'POST', '/v2/priv/app/blobs/uploads/', { headers: auth });
  for (const d of [
    peer.root,
    join(peer.root, 'blobs'),
    join(peer.root, 'repositories'),
    join(peer.root, 'uploads'),
  ])
    assert.equal(await mode(d), 0o700, d);
  assert.equal(await mode(blobFile(peer.root, img.layers[0]!.digest)), 0o600);
  assert.equal(await mode(blobFile(peer.root, img.manifestDigest)), 0o600);
  assert.equal(await mode(join(peer.root, 'repositories', 'priv', 'app', '_manifests', 'tags', 'v1')), 0o600);
  const [session] = await readdir(join(peer.root, 'uploads'));
  assert.equal(await mode(join(peer.root, 'uploads', session!, 'data')), 0o600);
});

test('symlinks planted in the store are never followed: not served, reported by the check', async () => {
  const peer = await startOurs({ fsync: true });
  peers.push(peer);
  const img = makeImage({ layers: [await randomLayer(300)] });
  await pushImage(peer.url, 'real/app', 'v1', img);
  await pushImage(peer.url, 'other/app', 'v1', makeImage({ layers: [await randomLayer(100)] }));
  assert.deepEqual((await checkStore(peer.root, { verifyContent: true })).problems, []);
  const outside = join(scratchDir('outside'), 'secret');
  await writeFile(outside, 'not for clients');
  // A blob replaced by a link to a file outside the store.
  const layer = img.layers[0]!.digest;
  await rm(blobFile(peer.root, layer));
  await symlink(outside, blobFile(peer.root, layer));
  assert.equal((await call(peer, 'GET', `/v2/real/app/blobs/${layer}`)).status, 404);
  // A tag that is a link to another repository's tag.
  const tags = (name: string) => join(peer.root, 'repositories', name, '_manifests', 'tags');
  await rm(join(tags('real/app'), 'v1'));
  await symlink(join(tags('other/app'), 'v1'), join(tags('real/app'), 'v1'));
  assert.equal((await call(peer, 'GET', '/v2/real/app/manifests/v1')).status, 404);
  // A repository folder that is a link to another repository.
  await symlink(
    join(peer.root, 'repositories', 'real', 'app'),
    join(peer.root, 'repositories', 'real', 'alias'),
  );
  assert.equal((await call(peer, 'GET', `/v2/real/alias/manifests/${img.manifestDigest}`)).status, 404);
  assert.equal((await call(peer, 'GET', `/v2/real/alias/blobs/${img.config.digest}`)).status, 404);
  const problems = (await checkStore(peer.root)).problems.filter((p) => p.startsWith('symlink'));
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.equal((await call(peer, 'GET', '/v2/')).status, 200);
});

test('gc counts a chunked blob from its commit, not from its last PATCH: push, backdate, collect', async () => {
  const peer = await startOurs();
  peers.push(peer);
  const data = randomBytes(5000);
  const post = await call(peer, 'POST', '/v2/gc/app/blobs/uploads/');
  const loc = new URL(post.headers.get('location')!, peer.url);
  const patch = await call(peer, 'PATCH', loc.pathname, {
    headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${data.length - 1}` },
    body: data,
  });
  assert.equal(patch.status, 202);
  // The PATCH happened two hours ago, as far as the file system knows.
  const [id] = await readdir(join(peer.root, 'uploads'));
  const old = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(peer.root, 'uploads', id!, 'data'), old, old);
  const put = await call(peer, 'PUT', `${loc.pathname}?digest=${sha256(data)}`);
  assert.equal(put.status, 201);
  const report = await collectGarbage(peer.root, { gracePeriodMs: 3600_000 });
  assert.deepEqual(report.deleted, []);
  assert.equal(report.spared, 1);
  assert.equal((await call(peer, 'GET', `/v2/gc/app/blobs/${sha256(data)}`)).status, 200);
  // Once the commit itself is older than the grace period, the unreferenced blob goes.
  await utimes(blobFile(peer.root, sha256(data)), old, old);
  const later = await collectGarbage(peer.root, { gracePeriodMs: 3600_000 });
  assert.deepEqual(
    later.deleted.map((b) => b.digest),
    [sha256(data)],
  );
});

test('start-up: an announce folder that cannot be written is a warning, and the server serves on', async () => {
  const blocker = join(scratchDir('announce'), 'file');
  await writeFile(blocker, '');
  const before = process.env.OVERCLOUD_REGISTRY_RUN_DIR;
  process.env.OVERCLOUD_REGISTRY_RUN_DIR = join(blocker, 'registry'); // under a file: never writable
  const warnings: string[] = [];
  try {
    const srv = await startRegistryServer({
      root: scratchDir('store'),
      listen: '127.0.0.1:0',
      announce: true,
      warn: (m) => warnings.push(m),
    });
    try {
      assert.equal((await call(srv, 'GET', '/v2/')).status, 200);
    } finally {
      await srv.close();
    }
  } finally {
    if (before === undefined) delete process.env.OVERCLOUD_REGISTRY_RUN_DIR;
    else process.env.OVERCLOUD_REGISTRY_RUN_DIR = before;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot write the announce record in .*file\/registry.*HTTP instead/);
});

test('start-up: an unusable store folder and a port in use are clear errors', async () => {
  const file = join(scratchDir('root'), 'not-a-dir');
  await writeFile(file, '');
  await assert.rejects(
    startRegistryServer({ root: file, listen: '127.0.0.1:0' }),
    /cannot use .*not-a-dir as the registry's store/,
  );
  const srv = await startRegistryServer({ root: scratchDir('store'), listen: '127.0.0.1:0' });
  try {
    await assert.rejects(
      startRegistryServer({ root: scratchDir('store'), listen: srv.host }),
      /cannot listen on 127\.0\.0\.1:\d+: the address is already in use/,
    );
  } finally {
    await srv.close();
  }
});

test('--fsync syncs the folder after a blob is renamed into it (strace)', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
    t.skip('strace is not installed');
    return;
  }
  const root = scratchDir('fsync');
  const data = Buffer.from('durable');
  const d = sha256(data);
  const staged = join(root, 'staged');
  await writeFile(staged, data);
  const fsModule = new URL('../../src/server/storage/fs.js', import.meta.url).href;
  const script = `const { FsStore } = await import(${JSON.stringify(fsModule)});
const s = await FsStore.open(${JSON.stringify(root)}, { fsync: true });
await s.commitBlob(${JSON.stringify(staged)}, ${JSON.stringify(d)});`;
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-e', 'trace=openat,fsync,rename', process.execPath, '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const dir = join(root, 'blobs', 'sha256', d.slice(7, 9));
  const trace = r.stderr;
  const renamed = trace.indexOf(`rename("${staged}"`);
  assert.ok(renamed >= 0, 'the blob is renamed into place');
  const after = trace.slice(renamed);
  const opened = new RegExp(`openat\\([^"]*"${dir}", O_RDONLY[^)]*O_DIRECTORY[^)]*\\) = (\\d+)`).exec(after);
  assert.ok(opened, `the folder is opened after the rename:\n${after.slice(0, 2000)}`);
  assert.match(after, new RegExp(`fsync\\(${opened[1]}\\)`), 'and fsynced');
  assert.ok((await stat(join(dir, d.slice(7)))).isFile());
});
