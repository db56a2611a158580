/**
 * The lab lock: two quickstarts on one lab never run together, and a run killed with SIGKILL never
 * leaves a lock behind. The runs are real `overcloud quickstart --teardown` processes on a lab that
 * exists only as a lab.json recording one process of the test that ignores SIGTERM: the teardown
 * then waits its 5 s grace before SIGKILL, a window in which a second run must be refused.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseConfigText } from '../../src/lab/config.js';
import { acquireLabLock, holderOf, LOCK_DIR, lockFiles } from '../../src/quickstart/lock.js';
import { packageRoot } from '../../src/util/paths.js';
import { type TmpTree, tmpTree } from '../support/tmp.js';

const LAB_DIR = '/var/tmp/overcloud-quickstart-lock-test';
const configText = (name: string): string =>
  `containerized_overcloud: true\nlab: {name: ${name}, subnet: 10.231.28.0/24, dir: ${LAB_DIR}}\novercloud_nodes: [{role: Controller, count: 1}]\n`;

interface Run {
  child: ChildProcess;
  done: Promise<Result>;
}

interface Result {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function quickstart(configFile: string, args: string[]): Run {
  const entry = join(packageRoot(), 'dist', 'src', 'cli', 'run.js');
  let child: ChildProcess | undefined;
  const done = new Promise<Result>((resolve) => {
    child = execFile(
      process.execPath,
      [entry, 'quickstart', '--config', configFile, ...args],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, signal: err?.signal ?? null, stdout, stderr });
      },
    );
  });
  return { child: child as ChildProcess, done };
}

/** stubborn is a process that ignores SIGTERM, with a marker the lab state names it by. */
function stubborn(marker: string): ChildProcess {
  return spawn(
    process.execPath,
    ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);", marker],
    {
      stdio: 'ignore',
    },
  );
}

function alive(p: ChildProcess): boolean {
  return p.exitCode === null && p.signalCode === null;
}

/** fakeLab writes the lab state of a lab that holds one process (and its folder). */
async function labWith(proc: ChildProcess, marker: string): Promise<void> {
  await mkdir(LAB_DIR, { recursive: true });
  const state = {
    version: 1,
    name: 'ocqlk',
    subnet: '10.231.28.0/24',
    dir: LAB_DIR,
    runDir: '/run/ocqlk',
    created: { route: false, namespaces: [], dirs: [LAB_DIR] },
    procs: { stubborn: { pid: proc.pid, marker } },
    builtNames: [],
  };
  await writeFile(join(LAB_DIR, 'lab.json'), JSON.stringify(state));
}

async function waitForHolder(file: string, pid: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (holderOf(file).pid !== pid) {
    if (Date.now() > deadline) throw new Error(`pid ${pid} never took ${file}: ${holderOf(file).text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('quickstart lab lock', { timeout: 120_000 }, () => {
  let tmp: TmpTree;
  let cfg: string;
  let cfgSameDir: string;
  const procs: ChildProcess[] = [];
  const config = parseConfigText(configText('ocqlk'), 'lock.yml', '/');
  const files = [...lockFiles(config), ...lockFiles(parseConfigText(configText('ocqlk2'), 'x.yml', '/'))];

  before(async () => {
    tmp = await tmpTree({ 'lock.yml': configText('ocqlk'), 'same-dir.yml': configText('ocqlk2') });
    cfg = tmp.path('lock.yml');
    cfgSameDir = tmp.path('same-dir.yml');
  });
  after(async () => {
    for (const p of procs) if (alive(p)) p.kill('SIGKILL');
    await rm(LAB_DIR, { recursive: true, force: true });
    // Our lock files only (named after this test's labs).
    for (const f of files) await rm(f, { force: true });
    await tmp.cleanup();
  });

  it('refuses a second lock in the same process and gives it back on release', () => {
    const first = acquireLabLock(config, 'test');
    try {
      assert.throws(
        () => acquireLabLock(config, 'test'),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === 'QUICKSTART_LOCKED' &&
          e.exitStatus === 75 &&
          e.message.includes(`pid ${process.pid} holds ${LOCK_DIR}/lab-ocqlk.lock`),
      );
    } finally {
      first.release();
    }
    acquireLabLock(config, 'test').release();
  });

  it('a second quickstart on the same lab fails fast (exit 75) naming config, lock file and pid; the first goes on', async () => {
    const marker = `ocqlk-stubborn-${process.pid}-a`;
    const proc = stubborn(marker);
    procs.push(proc);
    await labWith(proc, marker);
    const first = quickstart(cfg, ['--teardown']);
    const firstPid = first.child.pid as number;
    await waitForHolder(files[0] as string, firstPid);

    const t0 = Date.now();
    const second = await quickstart(cfg, ['--teardown']).done;
    const secondMs = Date.now() - t0;
    assert.equal(second.code, 75, second.stderr);
    assert.match(second.stderr, /another quickstart is running on lab 'ocqlk'/);
    assert.ok(second.stderr.includes(cfg), `names the config: ${second.stderr}`);
    assert.ok(second.stderr.includes(`pid ${firstPid} holds ${files[0]}`), second.stderr);
    assert.ok(secondMs < 4000, `refused in ${secondMs} ms, while the first still waits`);

    // Another config with the same lab folder: refused by the folder's lock.
    const sameDir = await quickstart(cfgSameDir, ['--teardown']).done;
    assert.equal(sameDir.code, 75, sameDir.stderr);
    assert.ok(sameDir.stderr.includes(`pid ${firstPid} holds ${files[1]}`), sameDir.stderr);

    // Nothing disturbed: the first run still holds its locks and ends its teardown normally.
    assert.equal(first.child.exitCode, null, 'the first run is still going');
    assert.ok(alive(proc), 'the lab process is still there for the first run to remove');
    assert.equal(holderOf(files[0] as string).pid, firstPid);
    const r = await first.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /teardown: removed 2 item\(s\)/);
    assert.equal(existsSync(LAB_DIR), false);
  });

  it('a lock file left by a SIGKILLed run does not block the next run', async () => {
    const marker = `ocqlk-stubborn-${process.pid}-b`;
    const proc = stubborn(marker);
    procs.push(proc);
    await labWith(proc, marker);
    const killed = quickstart(cfg, ['--teardown']);
    const killedPid = killed.child.pid as number;
    await waitForHolder(files[0] as string, killedPid);
    killed.child.kill('SIGKILL');
    const k = await killed.done;
    assert.equal(k.signal, 'SIGKILL');
    // The file stays, naming the dead run; the kernel dropped its lock.
    assert.match(readFileSync(files[0] as string, 'utf8'), new RegExp(`pid=${killedPid} `));
    assert.ok(alive(proc), 'the killed run did not get to remove the lab process');

    const next = await quickstart(cfg, ['--teardown']).done;
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /teardown: removed 2 item\(s\)/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(proc), false);
  });
});
