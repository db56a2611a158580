// End to end: build the base and memcached, redis, haproxy, keystone and mariadb from the Debian
// mirror, then run each with podman, configured only through config.json and mounted files, and
// check it answers. Images stay in podman storage (localhost/overcloud-test/*) and the apt lists in
// /var/cache/overcloud/build, which is what makes the next run fast. Skipped, loudly, only when the
// Debian mirror cannot be reached.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { refreshSnapshot } from '../../src/image-build/apt.js';
import { type BuildSummary, DEFAULT_CACHE_DIR, runImageBuild } from '../../src/image-build/builder.js';
import { accountFor } from '../../src/image-build/users.js';
import { renderLabelTemplate } from '../../src/prepare/tag-from-label.js';
import { templatesPath } from '../../src/util/paths.js';
import { startOursRecordingPuts } from '../server/peers.js';
import { freePort } from '../support/distribution.js';
import { run } from '../support/exec.js';
import { Services, tcpExchange } from './services.js';

const SET = ['memcached', 'redis', 'haproxy', 'keystone', 'mariadb'];
const NS = 'overcloud-test';
const image = (name: string): string => `localhost/${NS}/debian-binary-${name}:latest`;

async function mirrorProblem(): Promise<string | undefined> {
  try {
    await refreshSnapshot(join(DEFAULT_CACHE_DIR, 'apt'));
    return undefined;
  } catch (e) {
    if ((e as { code?: string }).code === 'MIRROR_UNREACHABLE') return (e as Error).message;
    throw e;
  }
}

async function labels(ref: string): Promise<Record<string, string>> {
  const { stdout } = await run('podman', ['image', 'inspect', '--format', '{{json .Labels}}', ref]);
  return JSON.parse(stdout) as Record<string, string>;
}

test('image build: base + memcached, redis, haproxy, keystone, mariadb build, re-run as no-ops, and serve', {
  timeout: 1_500_000,
}, async (t) => {
  const problem = await mirrorProblem();
  if (problem !== undefined) {
    console.log(`# SKIPPED image build e2e: the Debian mirror is unreachable: ${problem}`);
    t.skip(`Debian mirror unreachable: ${problem}`);
    return;
  }
  const opts = {
    include: `^(${SET.join('|')})$`,
    namespace: NS,
    prefix: 'debian-binary-',
    tag: 'latest',
    parallel: 3,
  };
  let first: BuildSummary | undefined;

  await t.test('cold or cached build: every image of the set and its parents, none failed', async () => {
    first = await runImageBuild({ ...opts, log: (l) => console.log(`# ${l}`) });
    const byName = new Map(first.images.map((i) => [i.name, i]));
    for (const name of ['base', 'openstack-base', ...SET]) {
      const r = byName.get(name);
      assert.ok(r, `${name} planned`);
      assert.ok(r.status === 'built' || r.status === 'cached', `${name}: ${r.status} ${r.error ?? ''}`);
    }
    console.log(
      `# first build: ${first.seconds.toFixed(1)} s, built ${
        first.images
          .filter((i) => i.status === 'built')
          .map((i) => i.name)
          .join(' ') || 'nothing'
      }`,
    );
  });

  await t.test('a second run with nothing changed rebuilds nothing and takes seconds', async () => {
    const again = await runImageBuild(opts);
    assert.deepEqual(
      again.images.filter((i) => i.status !== 'cached').map((i) => i.name),
      [],
    );
    assert.deepEqual(
      again.images.map((i) => i.id),
      first?.images.map((i) => i.id),
    );
    assert.ok(again.seconds < 15, `warm run took ${again.seconds} s`);
    console.log(`# warm re-run: ${again.seconds.toFixed(1)} s`);
  });

  await t.test(
    'labels: version/release of the main package feed --tag-from-label; that tag exists',
    async () => {
      const l = await labels(image('keystone'));
      assert.match(l['org.overcloud.debian-version'] ?? '', /^\d+:22\./);
      const tag = renderLabelTemplate('{version}-{release}', l);
      assert.match(tag ?? '', /^22\./, 'tag from labels');
      await run('podman', ['image', 'exists', `localhost/${NS}/debian-binary-keystone:${tag}`]);
      assert.equal(l['org.opencontainers.image.title'], 'keystone');
      assert.equal(l['org.overcloud.user'], 'keystone');
    },
  );

  await t.test("service users have kolla's fixed ids, also those their package created", async () => {
    // keystone's package finds the account (openstack-pkg-tools checks getent); mariadb, redis
    // and memcached's postinst run `adduser --system`, which must keep the existing account.
    const expect: [string, string, string][] = [
      ['keystone', 'keystone', '/var/lib/keystone'],
      ['mariadb', 'mysql', '/var/lib/mysql'],
      ['redis', 'redis', '/var/lib/redis'],
      ['memcached', 'memcache', ''],
    ];
    for (const [img, user, folder] of expect) {
      const a = accountFor(user);
      assert.ok(a, `${user} has a fixed account`);
      const script = `id ${user}; ${folder ? `stat -c '%U:%G %u' ${folder}` : 'true'}`;
      const { stdout } = await run('podman', [
        'run',
        '--rm',
        '--network=none',
        '--entrypoint=/bin/sh',
        image(img),
        '-c',
        script,
      ]);
      const [id, owner] = stdout.trim().split('\n');
      assert.equal(
        id,
        `uid=${a.uid}(${user}) gid=${a.gid}(${user}) groups=${a.gid}(${user}),42400(kolla)`,
        img,
      );
      if (folder)
        assert.equal(owner, `${user}:${user} ${a.uid}`, `${img}: ${folder} owned by the package's user`);
    }
  });

  await t.test('nothing secret or host-specific is in the images', async () => {
    const check = [
      'test ! -s /etc/hostname',
      'test ! -s /etc/resolv.conf',
      'test ! -s /etc/machine-id',
      'test ! -e /var/lib/dbus/machine-id',
      'test -z "$(ls -A /var/lib/apt/lists)"',
      'test -z "$(find /var/cache/apt -name "*.deb" -o -name "*.bin")"',
      'test -z "$(ls -A /etc/keystone/fernet-keys /etc/keystone/credential-keys 2>/dev/null)"',
      'test -z "$(ls -A /var/lib/mysql 2>/dev/null)"',
      'test ! -e /etc/ssl/private/ssl-cert-snakeoil.key',
      'test -x /usr/sbin/policy-rc.d',
    ].join(' && ');
    for (const name of ['keystone', 'mariadb']) {
      // Inspect the image's own files: mount it rather than run it (a container gets fresh ones).
      const { stdout } = await run('podman', ['image', 'mount', image(name)]);
      const root = stdout.trim();
      try {
        await run('chroot', [root, '/bin/sh', '-c', check]);
      } finally {
        await run('podman', ['image', 'unmount', image(name)]);
      }
    }
  });

  await t.test(
    'a changed recipe rebuilds only its image; a failed image names its packages and apt error, its children are skipped, others finish',
    async () => {
      // The shipped recipes in a copy (same files, so the same keys), with memcached's recipe
      // changed (a fresh marker each run, so it is really new) and three broken images added.
      // A scratch namespace keeps the changed memcached away from the names later tests run;
      // its names are removed afterwards, which deletes the changed image and only untags others.
      const tree = await mkdtemp(join(tmpdir(), 'overcloud-build-recipes-'));
      let scratch: string[] = [];
      try {
        await cp(templatesPath('images'), tree, { recursive: true });
        const shipped = await readFile(join(tree, 'images.yaml'), 'utf8');
        const changed = shipped.replace(
          '    packages: [memcached]\n',
          `    packages: [memcached]\n    remove: [/var/log/overcloud-e2e-${randomBytes(4).toString('hex')}]\n`,
        );
        assert.notEqual(changed, shipped);
        await writeFile(join(tree, 'images.yaml'), changed);
        await appendFile(
          join(tree, 'images.yaml'),
          '  broken-mta:\n    parent: base\n    packages: [postfix, exim4-daemon-light]\n' +
            '  broken-child:\n    parent: broken-mta\n    packages: [redis-tools]\n' +
            '  no-such:\n    parent: base\n    packages: [overcloud-no-such-package]\n',
        );
        const r = await runImageBuild({
          ...opts,
          namespace: `${NS}-scratch`,
          include: '^(memcached|redis|broken-child|no-such)$',
          recipesPath: join(tree, 'images.yaml'),
        });
        scratch = r.images.flatMap((i) =>
          i.id === undefined
            ? []
            : i.names.flatMap((n) => [`${n}:latest`, ...(i.versionTag ? [`${n}:${i.versionTag}`] : [])]),
        );
        const by = new Map(r.images.map((i) => [i.name, i]));
        assert.equal(by.get('memcached')?.status, 'built', 'its recipe changed');
        assert.equal(by.get('redis')?.status, 'cached');
        assert.equal(by.get('base')?.status, 'cached');
        assert.equal(by.get('broken-mta')?.status, 'failed');
        assert.match(
          by.get('broken-mta')?.error ?? '',
          /^packages postfix exim4-daemon-light: E: Unable to correct problems.* \| postfix : Conflicts: mail-transport-agent/,
        );
        assert.equal(by.get('broken-child')?.status, 'skipped');
        assert.match(by.get('broken-child')?.error ?? '', /parent broken-mta was not built/);
        assert.equal(by.get('no-such')?.status, 'failed');
        assert.match(
          by.get('no-such')?.error ?? '',
          /package overcloud-no-such-package: no installation candidate/,
        );
      } finally {
        await rm(tree, { recursive: true, force: true });
        for (const name of scratch) await run('podman', ['rmi', name]).catch(() => undefined);
      }
    },
  );

  await t.test(
    '--push sends each image with both tags from an OCI layout export, every layer once; a re-push sends nothing',
    async () => {
      const registry = await startOursRecordingPuts();
      const { puts } = registry;
      try {
        const r = await runImageBuild({ ...opts, include: '^(memcached|redis)$', push: registry.host });
        assert.deepEqual(
          r.images.filter((i) => i.status !== 'cached').map((i) => i.name),
          [],
        );
        const names = r.images.reduce((n, i) => n + i.names.length * (i.versionTag ? 2 : 1), 0);
        assert.equal(r.push?.pushed, names, 'every name of every image');
        const l = await labels(image('memcached'));
        const vtag = renderLabelTemplate('{version}-{release}', l);
        // skopeo reads what the registry serves, independently of the client under test.
        const remote = async (ref: string, ...flags: string[]): Promise<string> =>
          (
            await run('skopeo', [
              'inspect',
              '--tls-verify=false',
              ...flags,
              `docker://${registry.host}/${NS}/${ref}`,
            ])
          ).stdout;
        const remoteLabels = async (ref: string): Promise<Record<string, string>> =>
          (JSON.parse(await remote(ref)) as { Labels: Record<string, string> }).Labels;
        assert.equal(
          (await remoteLabels('debian-binary-memcached:latest'))['org.overcloud.build-key'],
          l['org.overcloud.build-key'],
        );
        assert.equal((await remoteLabels(`debian-binary-memcached:${vtag}`)).version, l.version);
        assert.equal((await remoteLabels('debian-binary-base:latest'))['org.overcloud.image'], 'base');
        assert.equal((await remoteLabels('debian-binary-redis:latest'))['org.overcloud.image'], 'redis');
        const manifest = JSON.parse(await remote('debian-binary-redis:latest', '--raw')) as {
          config: { digest: string };
        };
        const id = (
          await run('podman', ['image', 'inspect', '--format', '{{.Id}}', image('redis')])
        ).stdout.trim();
        assert.equal(manifest.config.digest, `sha256:${id}`, "the registry's config is the local image");
        assert.ok(puts.length >= 3, `uploads seen: ${puts.length}`);
        assert.equal(new Set(puts).size, puts.length, `a layer was uploaded twice: ${puts.join(' ')}`);

        puts.length = 0;
        const again = await runImageBuild({ ...opts, include: '^(memcached|redis)$', push: registry.host });
        assert.equal(again.push?.pushed, 0);
        assert.equal(again.push?.current, names);
        assert.deepEqual(puts, [], 'nothing uploaded');
        assert.ok((again.push?.seconds ?? 99) < 5, `re-push took ${again.push?.seconds} s`);
      } finally {
        await registry.stop();
      }
      const nobody = `127.0.0.1:${await freePort()}`;
      await assert.rejects(
        runImageBuild({ ...opts, include: '^redis$', push: nobody }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'UPLOAD_FAILED');
          assert.match(e.message, new RegExp(`cannot push to ${nobody}`));
          return true;
        },
      );
    },
  );

  const dir = await mkdtemp(join(tmpdir(), 'overcloud-build-e2e-'));
  const svc = new Services(dir, randomBytes(4).toString('hex'));
  t.after(async () => {
    await svc.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  await t.test('memcached answers stats', async () => {
    const port = await freePort();
    const name = await svc.start({
      name: 'memcached',
      image: image('memcached'),
      network: ['-p', `127.0.0.1:${port}:11211`],
      config: { command: 'memcached -l 0.0.0.0 -p 11211 -U 0 -m 64', config_files: [] },
      healthcheck: (await labels(image('memcached')))['org.overcloud.healthcheck'],
    });
    await svc.healthy(name);
    const reply = await tcpExchange(port, 'stats\r\n', /END\r\n/);
    assert.match(reply, /^STAT pid \d+/m);
    const { stdout } = await run('podman', ['top', name, 'user', 'comm']);
    assert.match(stdout, /memcache\s+memcached/, 'memcached runs as the memcache user');
  });

  await t.test('redis answers PING, with its config file copied by config.json', async () => {
    const port = await freePort();
    const name = await svc.start({
      name: 'redis',
      image: image('redis'),
      network: ['-p', `127.0.0.1:${port}:6379`],
      files: { 'redis.conf': 'bind 0.0.0.0\nport 6379\nprotected-mode no\ndaemonize no\nlogfile ""\n' },
      config: {
        command: 'redis-server /etc/redis/redis.conf',
        config_files: [
          {
            source: '/var/lib/kolla/config_files/redis.conf',
            dest: '/etc/redis/redis.conf',
            owner: 'redis',
            perm: '0600',
          },
        ],
      },
      healthcheck: (await labels(image('redis')))['org.overcloud.healthcheck'],
    });
    await svc.healthy(name);
    assert.equal(await tcpExchange(port, 'PING\r\n', /\r\n/), '+PONG\r\n');
  });

  await t.test('haproxy serves its stats page', async () => {
    const port = await freePort();
    const name = await svc.start({
      name: 'haproxy',
      image: image('haproxy'),
      network: ['-p', `127.0.0.1:${port}:1993`],
      files: {
        'haproxy.cfg':
          'global\n  maxconn 256\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n' +
          'listen stats\n  bind 0.0.0.0:1993\n  stats enable\n  stats uri /\n',
      },
      config: {
        command: 'haproxy -W -db -f /etc/haproxy/haproxy.cfg',
        config_files: [
          {
            source: '/var/lib/kolla/config_files/haproxy.cfg',
            dest: '/etc/haproxy/haproxy.cfg',
            owner: 'root',
            perm: '0644',
          },
        ],
      },
      healthcheck: (await labels(image('haproxy')))['org.overcloud.healthcheck'],
    });
    await svc.healthy(name);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Statistics Report/);
  });

  await t.test('keystone issues a token, backed by the mariadb container', async () => {
    const dbPassword = randomBytes(12).toString('hex');
    const adminPassword = randomBytes(12).toString('hex');
    const ksPort = await freePort();
    // keystone joins mariadb's network namespace: the database stays on 127.0.0.1 inside it.
    const db = await svc.start({
      name: 'mariadb',
      image: image('mariadb'),
      network: ['-p', `127.0.0.1:${ksPort}:5000`],
      files: {
        'init.sql': `CREATE DATABASE IF NOT EXISTS keystone;\nCREATE USER IF NOT EXISTS 'keystone'@'127.0.0.1' IDENTIFIED BY '${dbPassword}';\nGRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'127.0.0.1';\n`,
      },
      config: {
        command:
          'mariadbd --bind-address=127.0.0.1 --port=3306 --init-file=/etc/mysql/init.sql --skip-name-resolve --log-error=/dev/stderr',
        config_files: [
          {
            source: '/var/lib/kolla/config_files/init.sql',
            dest: '/etc/mysql/init.sql',
            owner: 'mysql',
            perm: '0600',
          },
        ],
      },
      healthcheck: (await labels(image('mariadb')))['org.overcloud.healthcheck'],
    });
    await svc.healthy(db);
    const files = {
      'keystone.conf': `[DEFAULT]\nuse_stderr = true\nlog_file =\n[database]\nconnection = mysql+pymysql://keystone:${dbPassword}@127.0.0.1:3306/keystone\n[token]\nprovider = fernet\n`,
      'uwsgi.ini':
        '[uwsgi]\nplugins = python3\nhttp-socket = 0.0.0.0:5000\nwsgi-file = /usr/bin/keystone-wsgi-public\nmaster = true\nprocesses = 1\nthreads = 2\nenable-threads = true\nlazy-apps = true\ndie-on-term = true\nno-orphans = true\nbuffer-size = 65535\nadd-header = Connection: close\nchdir = /var/lib/keystone\n',
    };
    const config = {
      command: 'uwsgi --ini /etc/keystone/uwsgi.ini',
      config_files: [
        {
          source: '/var/lib/kolla/config_files/keystone.conf',
          dest: '/etc/keystone/keystone.conf',
          owner: 'keystone',
          perm: '0600',
        },
        {
          source: '/var/lib/kolla/config_files/uwsgi.ini',
          dest: '/etc/keystone/uwsgi.ini',
          owner: 'keystone',
          perm: '0600',
        },
      ],
    };
    const bootstrap = await svc.start({
      name: 'keystone-bootstrap',
      image: image('keystone'),
      network: ['--network', `container:${db}`],
      files,
      config,
      env: {
        KOLLA_BOOTSTRAP: '',
        KEYSTONE_ADMIN_PASSWORD: adminPassword,
        KEYSTONE_PUBLIC_URL: `http://127.0.0.1:${ksPort}/v3/`,
      },
      detach: false,
    });
    assert.ok(bootstrap);
    const ks = await svc.start({
      name: 'keystone',
      image: image('keystone'),
      network: ['--network', `container:${db}`],
      files,
      config,
      healthcheck: 'healthcheck_curl http://127.0.0.1:5000/v3',
    });
    await svc.healthy(ks, 90_000);
    const res = await fetch(`http://127.0.0.1:${ksPort}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const body = (await res.json()) as { token?: { catalog?: { type: string }[] } };
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.match(res.headers.get('x-subject-token') ?? '', /^gAAAAA/, 'a fernet token');
    assert.ok(
      body.token?.catalog?.some((s) => s.type === 'identity'),
      'the catalog has the bootstrapped identity endpoint',
    );
    const bad = await fetch(`http://127.0.0.1:${ksPort}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: 'wrong' } },
          },
        },
      }),
    });
    assert.equal(bad.status, 401);
    const { stdout } = await run('podman', ['top', ks, 'user', 'comm']);
    assert.match(stdout, /keystone\s+uwsgi/, 'uwsgi runs as keystone');
  });
});
