import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { withLock } from '../../src/image-build/lock.js';
import { tmpTree } from '../support/tmp.js';

test('a second holder waits until the first releases; the file is gone afterwards', async () => {
  const t = await tmpTree();
  try {
    const lock = t.path('build.lock');
    const events: string[] = [];
    let waited = '';
    let releaseFirst: () => void = () => {};
    const first = withLock(
      lock,
      async () => {
        events.push('first in');
        await new Promise<void>((r) => {
          releaseFirst = r;
        });
        events.push('first out');
      },
      { waitMs: 5000, pollMs: 10 },
    );
    await new Promise((r) => setTimeout(r, 20));
    const second = withLock(lock, async () => events.push('second in'), {
      waitMs: 5000,
      pollMs: 10,
      onWait: (holder) => {
        waited = holder;
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, ['first in']);
    assert.equal(waited, String(process.pid));
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(events, ['first in', 'first out', 'second in']);
    assert.ok(!existsSync(lock));
  } finally {
    await t.cleanup();
  }
});

test('a lock left by a dead process is taken over; a live one times out with TIMEOUT', async () => {
  const t = await tmpTree();
  try {
    const lock = t.path('build.lock');
    await writeFile(lock, '2147483646\n'); // no such pid
    assert.equal(await withLock(lock, async () => 'ran', { waitMs: 100, pollMs: 10 }), 'ran');
    await writeFile(lock, `${process.pid}\n`);
    await assert.rejects(
      withLock(lock, async () => 'ran', { waitMs: 50, pollMs: 10 }),
      { code: 'TIMEOUT' },
    );
  } finally {
    await t.cleanup();
  }
});

test('the lock is released when the work throws', async () => {
  const t = await tmpTree();
  try {
    const lock = t.path('build.lock');
    await assert.rejects(
      withLock(lock, async () => Promise.reject(new Error('boom')), { waitMs: 10 }),
      /boom/,
    );
    assert.ok(!existsSync(lock));
  } finally {
    await t.cleanup();
  }
});
