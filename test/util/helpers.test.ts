import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { isMissing, readTextOr, readTextOrSync } from '../../src/util/fs.js';
import { freePort } from '../../src/util/net.js';
import { isAlive } from '../../src/util/process.js';
import { sleep } from '../../src/util/time.js';
import { tmpTree } from '../support/tmp.js';

test('readTextOr: the file, the fallback when it is missing, and an error for anything else', async () => {
  const t = await tmpTree({ 'a.txt': 'hello', 'd/x': '' });
  try {
    assert.equal(await readTextOr(t.path('a.txt'), undefined), 'hello');
    assert.equal(await readTextOr(t.path('missing.txt'), 'dflt'), 'dflt');
    assert.equal(await readTextOr(t.path('a.txt', 'below-a-file'), 'dflt'), 'dflt', 'ENOTDIR is missing too');
    // A directory is not a missing file: it must not pass for an empty one.
    await assert.rejects(readTextOr(t.path('d'), ''), { code: 'EISDIR' });
    assert.equal(readTextOrSync(t.path('a.txt'), undefined), 'hello');
    assert.equal(readTextOrSync(t.path('nope'), 7), 7);
    assert.throws(() => readTextOrSync(t.path('d'), ''), { code: 'EISDIR' });
    assert.equal(isMissing({ code: 'ENOENT' }), true);
    assert.equal(isMissing({ code: 'EACCES' }), false);
    assert.equal(isMissing(undefined), false);
  } finally {
    await t.cleanup();
  }
});

test('isAlive: this process is, a process that has exited is not', () => {
  assert.equal(isAlive(process.pid), true);
  const child = spawnSync('true');
  assert.equal(child.status, 0);
  assert.ok(child.pid !== undefined);
  assert.equal(isAlive(child.pid), false);
});

test('freePort: a loopback port that can be listened on; sleep waits', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((r) => srv.close(() => r()));
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 25);
});
