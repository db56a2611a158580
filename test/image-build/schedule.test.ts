import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectImages } from '../../src/image-build/plan.js';
import { loadRecipes } from '../../src/image-build/recipes.js';
import {
  criticalPath,
  DEFAULT_SECONDS,
  readDurations,
  writeDurations,
} from '../../src/image-build/schedule.js';
import { Semaphore } from '../../src/image-build/semaphore.js';
import { tmpTree } from '../support/tmp.js';

test('critical path: own time plus the longest chain below; unknown images count the default', async () => {
  const r = await loadRecipes();
  const sel = selectImages(r, { include: '^(horizon|nova-api|nova-conductor|memcached)$' });
  const cp = criticalPath(
    sel,
    new Map([
      ['horizon', 190],
      ['nova-base', 90],
      ['nova-api', 20],
      ['nova-conductor', 25],
      ['openstack-base', 60],
    ]),
  );
  assert.equal(cp.get('nova-base'), 115);
  assert.equal(cp.get('horizon'), 190);
  assert.equal(cp.get('openstack-base'), 250);
  assert.equal(cp.get('memcached'), DEFAULT_SECONDS);
  assert.equal(cp.get('base'), DEFAULT_SECONDS + 250);
});

test('durations are merged into the file and read back; a broken file reads as none', async () => {
  const t = await tmpTree({ 'bad.json': '{not json' });
  try {
    const f = t.path('d.json');
    await writeDurations(f, new Map([['a', 1.234]]));
    await writeDurations(f, new Map([['b', 2]]));
    assert.deepEqual(
      [...(await readDurations(f))],
      [
        ['a', 1.2],
        ['b', 2],
      ],
    );
    assert.equal((await readDurations(t.path('bad.json'))).size, 0);
    assert.equal((await readDurations(t.path('missing.json'))).size, 0);
  } finally {
    await t.cleanup();
  }
});

test('the semaphore never runs more than its slots and serves the highest priority first', async () => {
  const sem = new Semaphore(1);
  const first = await sem.acquire();
  const order: string[] = [];
  const waiters = [
    ['low', 1],
    ['high', 100],
    ['mid', 50],
    ['high-later', 100],
  ].map(async ([name, prio]) => {
    const release = await sem.acquire(prio as number);
    order.push(name as string);
    await new Promise((r) => setTimeout(r, 2));
    release();
  });
  first();
  await Promise.all(waiters);
  assert.deepEqual(order, ['high', 'high-later', 'mid', 'low']);

  const two = new Semaphore(2);
  let running = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      const release = await two.acquire();
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      release();
    }),
  );
  assert.equal(peak, 2);
});
