// kolla_set_configs (the config.json half of the entrypoint) run on the host against a temporary
// tree: every path in the config points into it, and the marker files are redirected by env.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { templatesPath } from '../../src/util/paths.js';
import { tmpTree } from '../support/tmp.js';

const run = promisify(execFile);
const SCRIPT = templatesPath('images', 'files', 'base', 'usr', 'local', 'bin', 'kolla_set_configs');

async function setConfigs(
  dir: string,
  config: unknown,
  strategy = 'COPY_ALWAYS',
): Promise<{ code: number; stderr: string }> {
  const env = {
    ...process.env,
    KOLLA_CONFIG: JSON.stringify(config),
    KOLLA_CONFIG_STRATEGY: strategy,
    KOLLA_RUN_COMMAND_FILE: `${dir}/run_command`,
    KOLLA_CONFIGURED_FILE: `${dir}/configured`,
  };
  try {
    const r = await run('python3', [SCRIPT], { env });
    return { code: 0, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '' };
  }
}

const mode = (p: string): number => statSync(p).mode & 0o7777;

test('config_files: globs, dest folders, owner and perm; command goes to run_command', async () => {
  const t = await tmpTree({
    'src/a.conf': 'A',
    'src/b.conf': 'B',
    'src/keys/0': 'k0',
    'dst/old.conf': 'stale',
  });
  try {
    const r = await setConfigs(t.dir, {
      command: 'memcached -u memcache',
      config_files: [
        { source: t.path('src/*.conf'), dest: t.path('dst/'), owner: 'nobody', perm: '0600' },
        { source: t.path('src/keys'), dest: t.path('etc/keys'), owner: 'root:root', perm: '0700' },
        { source: t.path('src/missing.conf'), dest: t.path('x'), optional: true },
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(t.path('run_command'), 'utf8'), 'memcached -u memcache');
    assert.equal(readFileSync(t.path('dst/a.conf'), 'utf8'), 'A');
    assert.equal(readFileSync(t.path('dst/b.conf'), 'utf8'), 'B');
    assert.equal(mode(t.path('dst/a.conf')), 0o600);
    assert.equal(statSync(t.path('dst/a.conf')).uid, 65534);
    assert.equal(readFileSync(t.path('dst/old.conf'), 'utf8'), 'stale', 'other files in a dest folder stay');
    assert.equal(mode(t.path('etc/keys')), 0o700);
    assert.equal(mode(t.path('etc/keys/0')), 0o700, 'perm applies to the whole copied tree');
    assert.ok(!existsSync(t.path('x')));
    assert.ok(!existsSync(t.path('configured')), 'COPY_ALWAYS leaves no marker');
  } finally {
    await t.cleanup();
  }
});

test('merge: false replaces a folder, merge: true adds to it', async () => {
  const t = await tmpTree({ 'src/d/new': 'n', 'dst1/old': 'o', 'dst2/old': 'o' });
  try {
    const r = await setConfigs(t.dir, {
      command: 'true',
      config_files: [
        { source: t.path('src/d'), dest: t.path('dst1') },
        { source: t.path('src/d'), dest: t.path('dst2'), merge: true },
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(t.path('dst1/old')) && existsSync(t.path('dst1/new')));
    assert.ok(existsSync(t.path('dst2/old')) && existsSync(t.path('dst2/new')));
  } finally {
    await t.cleanup();
  }
});

test('permissions: path, owner, perm, recurse and exclude', async () => {
  const t = await tmpTree({ 'var/lib/svc/a': '1', 'var/lib/svc/sub/b': '2', 'var/lib/svc/keep/c': '3' });
  try {
    const r = await setConfigs(t.dir, {
      command: 'true',
      permissions: [
        {
          path: t.path('var/lib/svc'),
          owner: 'nobody:nogroup',
          perm: '0750',
          recurse: true,
          exclude: [t.path('var/lib/svc/keep')],
        },
        { path: t.path('does/not/exist'), owner: 'nobody' },
      ],
    });
    assert.equal(r.code, 0, r.stderr);
    for (const p of ['var/lib/svc', 'var/lib/svc/a', 'var/lib/svc/sub', 'var/lib/svc/sub/b']) {
      assert.equal(statSync(t.path(p)).uid, 65534, p);
      assert.equal(mode(t.path(p)), 0o750, p);
    }
    assert.equal(statSync(t.path('var/lib/svc/keep/c')).uid, 0, 'excluded');
  } finally {
    await t.cleanup();
  }
});

test('COPY_ONCE copies at the first start only; COPY_ALWAYS every time', async () => {
  const t = await tmpTree({ 'src/f': 'one' });
  try {
    const config = { command: 'cmd1', config_files: [{ source: t.path('src/f'), dest: t.path('dst/f') }] };
    assert.equal((await setConfigs(t.dir, config, 'COPY_ONCE')).code, 0);
    assert.ok(existsSync(t.path('configured')));
    await tmpWrite(t.path('src/f'), 'two');
    assert.equal((await setConfigs(t.dir, { ...config, command: 'cmd2' }, 'COPY_ONCE')).code, 0);
    assert.equal(readFileSync(t.path('dst/f'), 'utf8'), 'one');
    assert.equal(readFileSync(t.path('run_command'), 'utf8'), 'cmd1');
    assert.equal((await setConfigs(t.dir, { ...config, command: 'cmd2' }, 'COPY_ALWAYS')).code, 0);
    assert.equal(readFileSync(t.path('dst/f'), 'utf8'), 'two');
    assert.equal(readFileSync(t.path('run_command'), 'utf8'), 'cmd2');
  } finally {
    await t.cleanup();
  }
});

test('errors exit 1 with a message: no strategy, no command, missing required source, unknown owner', async () => {
  const t = await tmpTree({ 'src/f': 'x' });
  try {
    const cases: [unknown, string, RegExp][] = [
      [{ command: 'x' }, 'SOMETHING', /KOLLA_CONFIG_STRATEGY must be/],
      [{ config_files: [] }, 'COPY_ALWAYS', /missing the required 'command'/],
      [
        { command: 'x', config_files: [{ source: t.path('nope'), dest: t.path('d') }] },
        'COPY_ALWAYS',
        /required source file is missing/,
      ],
      [
        {
          command: 'x',
          config_files: [{ source: t.path('src/f'), dest: t.path('d'), owner: 'no-such-user' }],
        },
        'COPY_ALWAYS',
        /no user 'no-such-user'/,
      ],
      [
        { command: 'x', config_files: [{ source: t.path('src/f'), dest: t.path('d'), perm: '9x' }] },
        'COPY_ALWAYS',
        /not an octal mode/,
      ],
    ];
    for (const [config, strategy, re] of cases) {
      const r = await setConfigs(t.dir, config, strategy);
      assert.equal(r.code, 1, JSON.stringify(config));
      assert.match(r.stderr, re);
    }
  } finally {
    await t.cleanup();
  }
});

async function tmpWrite(path: string, text: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, text);
}
