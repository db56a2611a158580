import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import {
  checkResult,
  EXIT_CANNOT_START,
  mustRun,
  ProcessError,
  pidGone,
  runProcess,
  runSync,
  TailBuffer,
} from '../../src/process/index.js';

describe('runProcess', () => {
  it('returns the exit code and both streams, and feeds stdin', async () => {
    const r = await runProcess(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
    assert.deepEqual(
      [r.code, r.signal, r.stdout, r.stderr.trim(), r.timedOut],
      [3, null, 'hello', 'err', false],
    );
    assert.deepEqual(r.dropped, { stdout: 0, stderr: 0 });
    assert.ok(r.durationMs >= 0);
  });

  it('keeps the END of a long output, within the cap, and counts what it dropped', async () => {
    // 200 numbered lines of 10 bytes; a 95-byte cap keeps the last 9 whole lines and a partial one.
    const r = await runProcess(
      ['sh', '-c', 'i=1; while [ $i -le 200 ]; do printf "line%05d\\n" $i; i=$((i+1)); done'],
      {
        tailBytes: 95,
      },
    );
    assert.equal(r.code, 0);
    assert.equal(Buffer.byteLength(r.stdout), 95);
    assert.ok(r.stdout.endsWith('line00199\nline00200\n'), r.stdout);
    assert.ok(!r.stdout.includes('line00001'));
    assert.equal(r.dropped.stdout, 2000 - 95);
  });

  it('reports the signal that killed the process', async () => {
    const r = await runProcess(['sh', '-c', 'kill -TERM $$; sleep 5']);
    assert.equal(r.code, null);
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.timedOut, false);
  });

  it('kills the process at the time-out and says so', async () => {
    const started = Date.now();
    const r = await runProcess(['sh', '-c', 'echo started; exec sleep 30'], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.code, null);
    assert.equal(r.stdout, 'started\n');
    assert.ok(Date.now() - started < 5000, 'did not wait for the sleep');
  });

  it('answers 127 with the reason for a program that does not exist', async () => {
    const r = await runProcess(['/nonexistent/tool', 'x']);
    assert.equal(r.code, EXIT_CANNOT_START);
    assert.match(r.stderr, /cannot run \/nonexistent\/tool: .*ENOENT/);
  });

  it('passes lines of both streams as they come, the last one without a newline too', async () => {
    const out: string[] = [];
    const err: string[] = [];
    await runProcess(['sh', '-c', 'echo a; echo b >&2; printf c'], {
      onLine: (l) => out.push(l),
      onStderrLine: (l) => err.push(l),
    });
    assert.deepEqual(out, ['a', 'c']);
    assert.deepEqual(err, ['b']);
  });

  it('adds env to the base environment and appends all output to a log file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oc-process-'));
    try {
      const log = join(dir, 'log');
      const r = await runProcess(['sh', '-c', 'echo "$A-$B"; echo x >&2'], {
        baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', B: 'base' },
        env: { A: 'added' },
        logFile: log,
      });
      assert.equal(r.stdout, 'added-base\n');
      assert.match(await readFile(log, 'utf8'), /added-base\n[\s\S]*x\n|x\n[\s\S]*added-base\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not wait for a grandchild that keeps the pipes open', async () => {
    const started = Date.now();
    const r = await runProcess(['sh', '-c', 'sleep 5 & echo parent']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'parent\n');
    assert.ok(Date.now() - started < 3000);
  });
});

describe('ProcessError', () => {
  it('is an AppError with a stable code that carries the whole result', async () => {
    await assert.rejects(
      mustRun(['sh', '-c', 'echo first; echo last >&2; exit 4']),
      (e: unknown) =>
        e instanceof ProcessError &&
        e instanceof AppError &&
        e.code === 'COMMAND_FAILED' &&
        e.exitStatus === 1 &&
        e.result.code === 4 &&
        e.result.stdout === 'first\n' &&
        /sh -c .* failed \(exit 4: last\)/.test(e.message),
    );
  });

  it('is TIMEOUT after a time-out, or the caller code; okCodes are successes', async () => {
    await assert.rejects(mustRun(['sleep', '5'], { timeoutMs: 100 }), (e: unknown) => {
      return e instanceof ProcessError && e.code === 'TIMEOUT' && e.result.timedOut;
    });
    await assert.rejects(
      mustRun(['false'], { code: 'LAB_FAILED', what: 'the probe' }),
      (e: unknown) =>
        e instanceof ProcessError && e.code === 'LAB_FAILED' && /^the probe failed/.test(e.message),
    );
    const r = await mustRun(['sh', '-c', 'exit 2'], { okCodes: [2] });
    assert.equal(r.code, 2);
    const killed = await runProcess(['sh', '-c', 'kill -KILL $$']);
    assert.throws(() => checkResult(killed), /killed by SIGKILL/);
  });
});

describe('runSync', () => {
  it('hands descriptors to the child as fd 3 and reports status and output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oc-process-'));
    try {
      const { openSync, closeSync, readFileSync } = await import('node:fs');
      const fd = openSync(join(dir, 'f'), 'w');
      const r = runSync(['sh', '-c', 'echo via-fd3 >&3; echo out; exit 5'], { passFds: [fd] });
      closeSync(fd);
      assert.deepEqual([r.code, r.stdout], [5, 'out\n']);
      assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'via-fd3\n');
      assert.equal(runSync(['/nonexistent/tool']).code, EXIT_CANNOT_START);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('TailBuffer', () => {
  it('keeps the last bytes across chunks and skips a character cut in two', () => {
    const t = new TailBuffer(4);
    t.push(Buffer.from('ab'));
    t.push(Buffer.from('cd'));
    t.push(Buffer.from('ef'));
    assert.equal(t.text(), 'cdef');
    assert.equal(t.dropped, 2);
    const u = new TailBuffer(3);
    u.push(Buffer.from('xé€')); // € is 3 bytes: the cap keeps exactly it
    assert.equal(u.text(), '€');
    const v = new TailBuffer(4);
    v.push(Buffer.from('xé€')); // the last byte of é is kept, then skipped
    assert.equal(v.text(), '€');
  });
});

describe('pidGone', () => {
  it('tells a running pid from a gone one', () => {
    assert.equal(pidGone(process.pid), false);
    assert.equal(pidGone(4_194_305), true); // above pid_max's ceiling (2^22)
  });
});
