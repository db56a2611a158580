import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootSetupScript } from '../../src/image-build/containerfile.js';
import { planKeys } from '../../src/image-build/keys.js';
import { loadRecipes, runUser } from '../../src/image-build/recipes.js';
import {
  accountFor,
  accountsScript,
  FIXED_ID_CEILING,
  groupName,
  homeOf,
  SERVICE_ACCOUNTS,
  userName,
} from '../../src/image-build/users.js';

// kolla's ids for the accounts the deployed services run as (kolla/common/users.py). These may
// never change: images in use and data on nodes carry them.
const KOLLA_IDS: Record<string, number> = {
  kolla: 42400,
  ansible: 42401,
  aodh: 42402,
  barbican: 42403,
  ceilometer: 42405,
  cinder: 42407,
  glance: 42415,
  gnocchi: 42416,
  heat: 42418,
  horizon: 42420,
  ironic: 42422,
  keystone: 42425,
  mysql: 42434,
  neutron: 42435,
  nova: 42436,
  rabbitmq: 42439,
  swift: 42445,
  haproxy: 42454,
  memcached: 42457,
  redis: 42460,
  placement: 42482,
  'opensearch-dashboards': 42492,
};

// Recipe users kolla's table has no id for: they keep the id their Debian package picks.
const DYNAMIC = new Set(['root', 'zaqar']);

test("the table holds kolla's ids, and only grows: ids rise in table order and never repeat", () => {
  for (const [name, id] of Object.entries(KOLLA_IDS)) {
    const a = SERVICE_ACCOUNTS.find((x) => x.kolla === name);
    assert.ok(a, `${name} is in the table`);
    assert.equal(a.uid, id, `${name} uid`);
    assert.equal(a.gid, id, `${name} gid`);
  }
  let last = 0;
  for (const a of SERVICE_ACCOUNTS) {
    assert.ok(a.uid > last, `${a.kolla}: uid ${a.uid} comes after ${last} (append only, never reuse)`);
    last = a.uid;
    assert.ok(a.uid >= 42400 && a.uid <= FIXED_ID_CEILING, `${a.kolla}: uid in the fixed range`);
  }
  const names = SERVICE_ACCOUNTS.map(userName);
  assert.equal(new Set(names).size, names.length, 'user names are unique');
  const gids = SERVICE_ACCOUNTS.map((a) => a.gid);
  assert.equal(new Set(gids).size, gids.length, 'gids are unique');
  assert.throws(
    () => (SERVICE_ACCOUNTS as unknown as { uid: number }[]).push({ uid: 1 }),
    TypeError,
    'frozen',
  );
});

test("Debian's names map onto kolla's accounts", () => {
  assert.equal(accountFor('memcache')?.uid, 42457, "Debian's memcached user");
  assert.equal(accountFor('memcached')?.uid, 42457, "kolla's name finds it too");
  assert.equal(homeOf(accountFor('mysql')!), '/nonexistent');
  assert.equal(homeOf(accountFor('keystone')!), '/var/lib/keystone');
  assert.equal(groupName(accountFor('hacluster')!), 'haclient');
  assert.equal(accountFor('zaqar'), undefined);
});

test('every service user of the recipes has a fixed id, unless listed as dynamic', async () => {
  const r = await loadRecipes();
  const users = new Set([...r.images.keys()].map((n) => runUser(r.images, n)));
  for (const u of users) {
    if (DYNAMIC.has(u)) continue;
    assert.ok(accountFor(u), `recipe user ${u} has no fixed account; add it at the end of the table`);
  }
});

test('the base layer creates kolla first, then every account in its kolla group, with adduser able to reuse them', () => {
  const script = accountsScript();
  const steps = script.split(' && ');
  assert.match(
    steps[0] ?? '',
    /LAST_SYSTEM_UID=42999 LAST_SYSTEM_GID=42999 FIRST_UID=43000.* >> \/etc\/adduser.conf$/,
  );
  assert.equal(steps[1], 'groupadd -g 42400 kolla');
  assert.equal(steps[2], 'useradd -l -M -u 42400 -g 42400 -d /var/lib/kolla -s /usr/sbin/nologin kolla');
  assert.ok(
    steps.includes(
      'useradd -l -M -u 42425 -g 42425 -G kolla -d /var/lib/keystone -s /usr/sbin/nologin keystone',
    ),
  );
  assert.ok(steps.includes('groupadd -g 42486 haclient'));
  assert.equal(steps.length, 1 + 2 * SERVICE_ACCOUNTS.length);
  assert.match(
    rootSetupScript(),
    /^set -eu; printf .*; chown root:kolla \/var\/log\/kolla; chmod 2775 \/var\/log\/kolla$/,
  );
});

test('the accounts are part of the root key: another table re-keys every image', async () => {
  const r = await loadRecipes();
  const selected = ['base', 'openstack-base', 'keystone'].map((n) => r.images.get(n)!);
  const ctx = { snapshot: 's', versions: new Map(), fileHashes: new Map(), global: {} };
  const shipped = planKeys(r, selected, ctx).map((p) => p.key);
  assert.deepEqual(
    planKeys(r, selected, { ...ctx, rootScript: rootSetupScript() }).map((p) => p.key),
    shipped,
  );
  const grown = accountsScript([...SERVICE_ACCOUNTS, { kolla: 'newsvc', uid: 42600, gid: 42600 }]);
  const rekeyed = planKeys(r, selected, { ...ctx, rootScript: grown }).map((p) => p.key);
  for (const [i, name] of ['base', 'openstack-base', 'keystone'].entries()) {
    assert.notEqual(rekeyed[i], shipped[i], `${name} re-keyed`);
  }
});
