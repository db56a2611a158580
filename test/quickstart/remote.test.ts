/**
 * The quickstart on a remote HOST, for real over ssh without leaving this machine: the HOST is a
 * test sshd on 127.0.0.1 (test/quickstart/sshd.ts), the operation a cheap one (`--teardown` of a lab
 * that does not exist), so the test checks the way there and back: the preflight, the shipment and
 * its reuse, the flags and the output passed through, the results copied back, the lab lock of
 * HOST, and the errors a user meets (bad HOST, refused key, nothing listening, non-root, not Debian,
 * a folder that is not ours).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import { parseConfigText } from '../../src/lab/config.js';
import { runProcess } from '../../src/process/index.js';
import { checkFacts, parseFacts } from '../../src/quickstart/host-facts.js';
import { acquireLabLock, lockFiles } from '../../src/quickstart/lock.js';
import { isLocalHost, parseHost } from '../../src/quickstart/remote-host.js';
import { preflightScript } from '../../src/quickstart/remote-scripts.js';
import { packageRoot } from '../../src/util/paths.js';
import { freePort } from '../support/distribution.js';
import { startSshd, type TestSshd } from './sshd.js';

const LAB = 'ocqrt';
const configText = `containerized_overcloud: true\nlab: {name: ${LAB}, subnet: 10.231.27.0/24, dir: /var/tmp/overcloud-quickstart-remote-test}\novercloud_nodes: [{role: Controller, count: 1}]\n`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** quickstartSh runs ./quickstart.sh as a user would. */
function quickstartSh(args: string[]): Promise<Result> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      join(packageRoot(), 'quickstart.sh'),
      args,
      { timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - t0 });
      },
    );
  });
}

describe('quickstart HOST argument', () => {
  it('takes bare local names as this machine and anything with a user or port as an ssh login', () => {
    for (const h of [undefined, '', 'localhost', '127.0.0.1', '::1', 'thishost'])
      assert.equal(isLocalHost(h, 'thishost'), true, String(h));
    for (const h of ['root@localhost', '127.0.0.1:2222', 'virthost', 'otherhost.example'])
      assert.equal(isLocalHost(h, 'thishost'), false, h);
  });

  it('reads [user@]host[:port] with root implied, and refuses what ssh would misread', () => {
    assert.deepEqual(parseHost('virthost'), { spec: 'virthost', user: 'root', host: 'virthost' });
    assert.deepEqual(parseHost('stack@10.0.0.5:2222'), {
      spec: 'stack@10.0.0.5:2222',
      user: 'stack',
      host: '10.0.0.5',
      port: 2222,
    });
    assert.deepEqual(parseHost('[fd00::5]:22'), {
      spec: '[fd00::5]:22',
      user: 'root',
      host: 'fd00::5',
      port: 22,
    });
    assert.deepEqual(parseHost('fd00::5'), { spec: 'fd00::5', user: 'root', host: 'fd00::5' });
    for (const bad of ['-oProxyCommand=x', 'host:ssh', 'host:70000', 'a b', 'us er@host'])
      assert.throws(
        () => parseHost(bad),
        (e: unknown) => e instanceof AppError && e.code === 'USAGE',
        bad,
      );
  });
});

describe('remote host checks (the preflight script run for real)', () => {
  const h = parseHost('virthost');

  it('refuses a login that is not root', async () => {
    // The preflight as user nobody on this machine: what a non-root ssh login would report.
    const r = await runProcess([
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      'sh',
      '-c',
      preflightScript('/nonexistent/qs'),
    ]);
    const facts = parseFacts(r, h);
    assert.equal(facts.uid, '65534');
    assert.throws(
      () => checkFacts(facts, h, '/nonexistent/qs'),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'HOST_UNSUPPORTED' &&
        /uid 65534\): the quickstart needs root/.test(e.message),
    );
  });

  it('refuses a host without /etc/debian_version, and one without Node.js 20', async () => {
    const facts = parseFacts(await runProcess(['sh', '-c', preflightScript('/nonexistent/qs')]), h);
    assert.equal(checkFacts(facts, h, '/x').uid, '0', 'this machine passes');
    const { debian: _, ...notDebian } = facts;
    assert.throws(
      () => checkFacts({ ...notDebian, os: 'Fedora Linux 40' }, h, '/x'),
      /virthost runs Fedora Linux 40, not Debian/,
    );
    assert.throws(
      () => checkFacts({ ...facts, node: 'v18.19.0' }, h, '/x'),
      /has Node.js v18.19.0: .*Node.js 20/,
    );
    assert.throws(
      () => parseFacts({ code: 1, stdout: '', stderr: 'This account is currently not available.' }, h),
      /could not run a shell command.*not available/,
    );
  });
});

describe('quickstart on a remote HOST (test sshd on 127.0.0.1)', { timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let host: string;
  let remoteDir: string;
  let localDir: string;
  const ssh = (): string[] => sshd.clientOptions.flatMap((o) => ['--ssh-option', o]);
  const remoteArgs = (config: string, extra: string[] = []): string[] => [
    '--config',
    config,
    '--teardown',
    ...extra,
    ...ssh(),
    '--remote-dir',
    remoteDir,
    '--local-dir',
    localDir,
    host,
  ];

  before(async () => {
    sshd = await startSshd();
    host = `127.0.0.1:${sshd.port}`;
    remoteDir = join(sshd.dir, 'remote', 'overcloud-quickstart');
    localDir = join(sshd.dir, 'local');
    await writeFile(join(sshd.dir, 'remote-a.yml'), configText);
    await writeFile(join(sshd.dir, 'remote-b.yml'), configText);
  });
  after(async () => {
    await sshd.stop();
    for (const f of lockFiles(parseConfigText(configText, 'x.yml', '/'))) await rm(f, { force: true });
  });

  it('ships the built package, runs the quickstart there and copies its output back', async () => {
    const r = await quickstartSh(remoteArgs(join(sshd.dir, 'remote-a.yml'), ['--verbose']));
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /\[remote\] root@127\.0\.0\.1:\d+: Debian 12[.\d]*, Node\.js v2\d/);
    assert.match(r.stdout, /\[remote\] {3}npm ci --omit=dev \(runtime dependencies\)/);
    assert.match(
      r.stdout,
      /\[remote\] shipped \d+ files .* to root@127\.0\.0\.1:\d+:.*overcloud-quickstart in /,
    );
    assert.match(
      r.stdout,
      /overcloud quickstart --config remote-configs\/remote-a\.yml --teardown --verbose/,
    );
    assert.match(r.stdout, /^teardown: nothing to remove$/m);
    assert.match(r.stderr, /\[setup-host\] ready:/, 'the host set-up ran there');
    // The built package, not the development tree.
    for (const f of [
      'package.json',
      'bin/overcloud',
      'dist/src/cli/run.js',
      'templates/roles_data.yaml',
      'scripts/setup-host.sh',
    ])
      assert.ok(existsSync(join(remoteDir, f)), `${f} shipped`);
    for (const f of ['src', 'test', 'bench', 'tsconfig.json', 'node_modules/typescript'])
      assert.equal(existsSync(join(remoteDir, f)), false, `${f} not shipped`);
    assert.ok(
      existsSync(join(remoteDir, 'node_modules', 'commander', 'package.json')),
      'runtime dependencies installed',
    );
    assert.equal(
      readFileSync(join(localDir, 'summary.txt'), 'utf8'),
      r.stdout.match(/^teardown: .*\n/m)?.[0],
    );
    process.stderr.write(`# first remote run: ${r.ms} ms\n`);
  });

  it('a second run reuses what HOST has, and --json keeps stdout for the JSON', async () => {
    const shipped = join(remoteDir, '.overcloud-remote', 'shipped');
    const before = statSync(shipped).mtimeMs;
    const npmBefore = statSync(join(remoteDir, 'node_modules', '.package-lock.json')).mtimeMs;
    const r = await quickstartSh(remoteArgs(join(sshd.dir, 'remote-a.yml'), ['--json']));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { removed: [] });
    assert.match(r.stderr, /already has this build \([0-9a-f]{12}\): nothing to ship/);
    assert.doesNotMatch(r.stderr, /shipped \d+ files|npm ci/);
    assert.equal(statSync(shipped).mtimeMs, before, 'shipment untouched');
    assert.equal(statSync(join(remoteDir, 'node_modules', '.package-lock.json')).mtimeMs, npmBefore);
    process.stderr.write(`# second remote run (reused): ${r.ms} ms\n`);
  });

  it('a changed shipment is sent again, without files the new one lacks and without a new npm ci', async () => {
    const r = await quickstartSh(remoteArgs(join(sshd.dir, 'remote-b.yml')));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[remote\] {3}removed remote-configs\/remote-a\.yml \(no longer shipped\)/);
    assert.doesNotMatch(r.stdout, /npm ci/);
    assert.equal(existsSync(join(remoteDir, 'remote-configs', 'remote-a.yml')), false);
    assert.ok(existsSync(join(remoteDir, 'remote-configs', 'remote-b.yml')));
  });

  it("the shipped folder runs ./quickstart.sh on HOST itself, as the run's summary suggests", async () => {
    const npmBefore = statSync(join(remoteDir, 'node_modules', '.package-lock.json')).mtimeMs;
    const r = await new Promise<Result>((resolve) => {
      const t0 = Date.now();
      execFile(
        join(remoteDir, 'quickstart.sh'),
        ['--config', 'remote-configs/remote-b.yml', '--teardown'],
        // Offline: should it wrongly decide to install, npm must fail here, not reach a registry.
        { timeout: 120_000, env: { ...process.env, npm_config_offline: 'true' } },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? -1) : 0, stdout, stderr, ms: Date.now() - t0 }),
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^teardown: nothing to remove$/m);
    assert.doesNotMatch(
      `${r.stdout}${r.stderr}`,
      /npm ci|building dist/,
      'no install, no build: it is a built package',
    );
    assert.equal(statSync(join(remoteDir, 'node_modules', '.package-lock.json')).mtimeMs, npmBefore);
  });

  it("HOST's lab lock holds for remote runs too: exit 75 and the holder's message come back", async () => {
    // The lock of this lab on HOST (which is this machine), held by this test process.
    const lock = acquireLabLock(parseConfigText(configText, 'held.yml', '/'), 'test');
    try {
      const r = await quickstartSh(remoteArgs(join(sshd.dir, 'remote-b.yml')));
      assert.equal(r.code, 75, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`another quickstart is running on lab '${LAB}'.*pid ${process.pid} holds`),
      );
      assert.match(r.stderr, /the quickstart on 127\.0\.0\.1:\d+ ended with exit status 75/);
    } finally {
      lock.release();
    }
  });

  it('says what is wrong: refused key, nothing listening, bad HOST, a folder that is not ours', async () => {
    const base = ['--config', join(sshd.dir, 'remote-a.yml'), '--teardown', '--local-dir', localDir];
    const stranger = await quickstartSh([
      ...base,
      '--ssh-option',
      `IdentityFile=${sshd.strangerKey}`,
      '--ssh-option',
      'IdentitiesOnly=yes',
      '--ssh-option',
      `UserKnownHostsFile=${sshd.dir}/known_hosts`,
      host,
    ]);
    assert.equal(stranger.code, 1);
    assert.match(stranger.stderr, /root@127\.0\.0\.1 port \d+ refused the login: .*Permission denied/);
    assert.match(stranger.stderr, /hint: put your public key into root's authorized_keys/);

    const closed = await freePort();
    const nobody = await quickstartSh([...base, ...ssh(), `127.0.0.1:${closed}`]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /cannot reach root@127\.0\.0\.1 port \d+ over ssh: .*Connection refused/);

    const bad = await quickstartSh([...base, '-oProxyCommand=x']);
    assert.equal(bad.code, 2, 'an option-looking HOST is refused by the script');
    const badHost = await quickstartSh([...base, 'root@-oProxyCommand=x']);
    assert.equal(badHost.code, 2);
    assert.match(badHost.stderr, /is not a host name or address/);

    const foreign = join(sshd.dir, 'remote', 'someone-elses');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'notes.txt'), 'keep me\n');
    const f = await quickstartSh([...base, ...ssh(), '--remote-dir', foreign, host]);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /exists, is not empty and was not made by the quickstart/);
    assert.equal(readFileSync(join(foreign, 'notes.txt'), 'utf8'), 'keep me\n');
  });
});
