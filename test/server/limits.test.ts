/**
 * Nothing a slow, idle or greedy client does holds the server: a trickling body is cut at the
 * minimum rate, silent sockets and slow headers time out, connections are capped, and abandoned
 * upload sessions expire by themselves, files and memory.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { startRegistryServer } from '../../src/server/index.js';
import { scratchDir } from '../support/tmp.js';
import { call } from './peers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(opts: Partial<Parameters<typeof startRegistryServer>[0]> = {}) {
  const root = scratchDir('registry-limits');
  const srv = await startRegistryServer({ root, listen: '127.0.0.1:0', ...opts });
  closers.push(() => srv.close());
  return { ...srv, root, port: Number(new URL(srv.url).port) };
}

/** open connects a raw socket and records when it closes and what came back. */
function open(port: number): Promise<{ sock: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => {
      got += d.toString('latin1');
    });
    const closed = new Promise<string>((r) => {
      sock.on('close', () => r(got));
    });
    sock.on('error', () => {});
    sock.once('connect', () => resolve({ sock, closed }));
    sock.once('error', reject);
  });
}

test('a body trickling in below the minimum rate is cut with 408, and the session stays usable', async () => {
  const srv = await serve({ minBodyRate: 1000, minBodyRateWindowMs: 300 });
  const post = await call(srv, 'POST', '/v2/slow/app/blobs/uploads/');
  const loc = post.headers.get('location')!;
  const { sock, closed } = await open(srv.port);
  sock.write(`PATCH ${loc} HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n`);
  const drip = setInterval(() => sock.writable && sock.write('x'), 100);
  const reply = await closed;
  clearInterval(drip);
  assert.match(reply, /^HTTP\/1\.1 408/);
  assert.equal((await call(srv, 'GET', loc)).status, 204);
  assert.equal((await call(srv, 'GET', '/v2/')).status, 200);
});

test('a silent connection, and headers that never finish, are closed', async () => {
  const srv = await serve({ idleTimeoutMs: 300, headersTimeoutMs: 500 });
  const idle = await open(srv.port);
  await idle.closed; // closes by itself: nothing sent
  const slow = await open(srv.port);
  slow.sock.write('GET /v2/ HTTP/1.1\r\nhost: x\r\n');
  const keep = setInterval(() => slow.sock.writable && slow.sock.write('x-a: b\r\n'), 100);
  const reply = await slow.closed;
  clearInterval(keep);
  assert.doesNotMatch(reply, /HTTP\/1\.1 200/);
  assert.equal((await call(srv, 'GET', '/v2/')).status, 200);
});

test('connections beyond --max-connections are refused while the others are served', async () => {
  const srv = await serve({ maxConnections: 2 });
  const a = await open(srv.port);
  const b = await open(srv.port);
  const c = await open(srv.port);
  assert.equal(await c.closed, '', 'the third connection is dropped at once');
  a.sock.write('GET /v2/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  assert.match(await a.closed, /^HTTP\/1\.1 200/);
  b.sock.destroy();
  await b.closed;
  assert.equal((await call(srv, 'GET', '/v2/')).status, 200);
});

test('upload sessions older than the purge age go by themselves, with their memory', async () => {
  const srv = await serve({ uploadPurgeAgeMs: 200, uploadPurgeIntervalMs: 100 });
  for (let i = 0; i < 5; i++)
    assert.equal((await call(srv, 'POST', '/v2/old/app/blobs/uploads/')).status, 202);
  assert.equal(srv.uploads.liveCount, 5);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await readdir(join(srv.root, 'uploads'))).length > 0) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(await readdir(join(srv.root, 'uploads')), []);
  assert.equal(srv.uploads.liveCount, 0);
  // A young session survives a purge run.
  const fresh = await serve({ uploadPurgeAgeMs: 60_000, uploadPurgeIntervalMs: 50 });
  const loc = (await call(fresh, 'POST', '/v2/new/app/blobs/uploads/')).headers.get('location')!;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await call(fresh, 'GET', loc)).status, 204);
});

test('a purge that meets a session whose info.json is not written yet leaves it alone', async () => {
  const srv = await serve({ uploadPurgeAgeMs: 60_000, uploadPurgeIntervalMs: 0 });
  // What create leaves between its two files: the folder and an empty data file, no info.json.
  const id = '0b0e2f6c-3a0d-4c8e-9f43-5e1c2b7a9d10';
  await mkdir(join(srv.root, 'uploads', id), { recursive: true });
  await writeFile(join(srv.root, 'uploads', id, 'data'), '');
  assert.equal(await srv.uploads.purge(60_000), 0);
  assert.deepEqual(await readdir(join(srv.root, 'uploads')), [id]);
  // Once older than the purge age by its folder's time, it goes.
  assert.equal(await srv.uploads.purge(60_000, Date.now() + 120_000), 1);
  assert.deepEqual(await readdir(join(srv.root, 'uploads')), []);
});
