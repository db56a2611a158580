#!/usr/bin/env node
// Runs a lane of the compiled tests (dist/test) with node's test runner.
//   node scripts/test.mjs all    every dist/test/**/*.test.js (never the bench runners, fixtures or
//                                helpers that also live under dist/test: only *.test.js files are tests)
//   node scripts/test.mjs unit   the fast lane: UNIT below
//   node scripts/test.mjs unit --isolated
//                                the unit lane as user nobody, in a fresh network namespace with only
//                                loopback, with podman, skopeo and docker-registry hidden: proves the
//                                lane needs no root, no network and no podman (needs root to set up)
// Extra arguments after the lane are passed to `node --test` (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The fast lane: test files that need no root, no network beyond loopback, no podman and no other
 * engineer's tools, and finish in seconds. The rule: a file belongs here when it tests pure code or
 * talks only to peers it starts itself on 127.0.0.1. `--isolated` checks that rule.
 */
const UNIT = [
  'architecture/folders.test.js',
  'deploy/apply.test.js',
  'deploy/cli-errors.test.js',
  'deploy/diff.test.js',
  'deploy/intrinsics.test.js',
  'deploy/inventory.test.js',
  'deploy/plan.test.js',
  'deploy/readiness.test.js',
  'deploy/report-doc.test.js',
  'deploy/requirements.test.js',
  'heat/environment.test.js',
  'heat/roles.test.js',
  'image-build/cli.test.js',
  'image-build/guest-cli.test.js',
  'image-build/guest.test.js',
  'image-build/keys.test.js',
  'image-build/lock.test.js',
  'image-build/plan.test.js',
  'image-build/publish.test.js',
  'image-build/recipes.test.js',
  'image-build/schedule.test.js',
  'image-build/users.test.js',
  'lab/render.test.js',
  'nodes/node-delete.test.js',
  'overcloud/templates-services.test.js',
  'overcloud/templates.test.js',
  'prepare/prepare.test.js',
  'prepare/shared-params.test.js',
  'process/one-layer.test.js',
  'process/run.test.js',
  'quickstart/config.test.js',
  'quickstart/upstream-config.test.js',
  'server/gc.test.js',
  'server/protocol-ours.test.js',
  'server/units.test.js',
  'upload/layout-source.test.js',
  'upload/plan.test.js',
  'validate/openstack.test.js',
];

/** Tools a unit test must not need: bound over with /dev/null in the isolated run. */
const HIDDEN_TOOLS = ['podman', 'skopeo', 'docker-registry', 'buildah', 'mmdebstrap', 'ansible-playbook'];

const root = join(import.meta.dirname, '..');
const distTest = join(root, 'dist', 'test');

function allTests(dir = distTest) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...allTests(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const [lane = 'all', ...rest] = process.argv.slice(2);
const isolated = rest.includes('--isolated');
const extra = rest.filter((a) => a !== '--isolated');
let files;
if (lane === 'all') files = allTests();
else if (lane === 'unit') files = UNIT.map((f) => join(distTest, f));
else {
  console.error(`unknown lane ${lane}: all or unit`);
  process.exit(2);
}
const missing = files.filter((f) => !existsSync(f));
if (missing.length > 0) {
  console.error(`not built or gone: ${missing.join(', ')} (run npm run build; update UNIT in scripts/test.mjs)`);
  process.exit(2);
}
let argv = [process.execPath, '--test', '--test-concurrency=2', ...extra, ...files];
if (isolated) {
  const hide = HIDDEN_TOOLS.map((t) => `p=$(command -v ${t}) && mount --bind /dev/null "$p"; `).join('');
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  argv = [
    'unshare',
    '--net',
    '--mount',
    'sh',
    '-c',
    `ip link set lo up && ${hide}cd /tmp && exec setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp ${quoted}`,
  ];
}
const r = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', cwd: isolated ? '/tmp' : root });
process.exit(r.status ?? 1);
