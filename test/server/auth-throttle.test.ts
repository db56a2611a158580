/**
 * Credentials: checked on a worker thread (the event loop stays free while bcrypt runs), failures
 * throttled per client with a 429, a known client's cached login unaffected, and an unknown user
 * answered exactly like a wrong password.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { FREE_FAILURES } from '../../src/server/auth.js';
import { scratchDir } from '../support/tmp.js';
import { call, type Peer, startOurs } from './peers.js';

const basic = (user: string, pw: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`,
});
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.stop();
});

async function withUsers(cost: number): Promise<Peer> {
  const file = join(scratchDir('htpasswd'), 'htpasswd');
  await writeFile(file, `alice:${bcrypt.hashSync('secret', cost)}\n`);
  const p = await startOurs({ htpasswd: file });
  peers.push(p);
  return p;
}

test('bad logins are throttled per client; a cached login still works; unknown and known users look alike', async () => {
  const peer = await withUsers(4);
  assert.equal((await call(peer, 'GET', '/v2/', { headers: basic('alice', 'secret') })).status, 200);
  const unknown = await call(peer, 'GET', '/v2/', { headers: basic('mallory', 'x') });
  const wrong = await call(peer, 'GET', '/v2/', { headers: basic('alice', 'x') });
  assert.equal(unknown.status, 401);
  assert.equal(wrong.status, 401);
  assert.deepEqual(unknown.body, wrong.body, 'the same answer whoever the user is');
  for (let i = 2; i < FREE_FAILURES; i++) {
    assert.equal((await call(peer, 'GET', '/v2/', { headers: basic('alice', `bad${i}`) })).status, 401);
  }
  const throttled = await call(peer, 'GET', '/v2/', { headers: basic('alice', 'again') });
  assert.equal(throttled.status, 429);
  assert.equal(throttled.code, 'TOOMANYREQUESTS');
  assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
  // The client that logged in before is not locked out by the flood.
  assert.equal((await call(peer, 'GET', '/v2/', { headers: basic('alice', 'secret') })).status, 200);
  // Without credentials: the challenge, as before.
  assert.equal((await call(peer, 'GET', '/v2/')).status, 401);
});

test('bcrypt runs off the event loop: concurrent bad logins at cost 12 do not stall the process', async () => {
  const peer = await withUsers(12);
  // One compare at cost 12, on this thread, for scale.
  const hash = bcrypt.hashSync('y', 12);
  const t0 = performance.now();
  bcrypt.compareSync('x', hash);
  const oneCheckMs = performance.now() - t0;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const replies = await Promise.all(
    Array.from({ length: FREE_FAILURES }, (_, i) =>
      call(peer, 'GET', '/v2/', { headers: basic(i % 2 ? 'alice' : `nobody${i}`, 'wrong') }),
    ),
  );
  h.disable();
  assert.deepEqual(
    replies.map((r) => r.status),
    Array(FREE_FAILURES).fill(401),
  );
  const maxDelayMs = h.max / 1e6;
  assert.ok(
    maxDelayMs < oneCheckMs / 2,
    `event loop stalled ${maxDelayMs.toFixed(0)} ms (one bcrypt check: ${oneCheckMs.toFixed(0)} ms)`,
  );
});

test('a burst of first logins shares one check; a burst of bad ones gets at most the free checks', async () => {
  const peer = await withUsers(8);
  const first = await Promise.all(
    Array.from({ length: 8 }, () => call(peer, 'GET', '/v2/', { headers: basic('alice', 'secret') })),
  );
  assert.deepEqual(
    first.map((r) => r.status),
    Array(8).fill(200),
  );
  const burst = await Promise.all(
    Array.from({ length: 16 }, (_, i) => call(peer, 'GET', '/v2/', { headers: basic('alice', `bad${i}`) })),
  );
  const statuses = burst.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 401).length, FREE_FAILURES, statuses.join(' '));
  assert.equal(statuses.filter((s) => s === 429).length, 16 - FREE_FAILURES);
});
