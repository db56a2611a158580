/**
 * End to end: `overcloud quickstart --config config/ci_minimal.yml` on this machine (the reduced
 * real service set on a controller and a compute in network namespaces), a second run that must
 * change nothing, then `--teardown`, after which no namespace, process, route, mount or folder of
 * the lab may be left. Also: the lab refuses a subnet this machine already routes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import { loadConfig, parseConfigText } from '../../src/lab/config.js';
import { checkRoutes, labUp } from '../../src/lab/index.js';
import { planTopology } from '../../src/lab/topology.js';
import { runProcess } from '../../src/process/index.js';
import type { QuickstartReport } from '../../src/quickstart/run.js';
import { packageRoot } from '../../src/util/paths.js';
import { scratchDir } from '../support/tmp.js';

const CONFIG = join(packageRoot(), 'config', 'ci_minimal.yml');
// The stacks this test's quickstart registers, apart from the machine's; HOME without a stack of its own.
const SCRATCH = scratchDir('quickstart-e2e');
const ENV = { ...process.env, OVERCLOUD_STACKS_DIR: join(SCRATCH, 'stacks'), HOME: SCRATCH };

function quickstart(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cli(['quickstart', '--config', CONFIG, ...args]);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = join(packageRoot(), 'dist', 'src', 'cli', 'run.js');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [entry, ...args],
      { timeout: 40 * 60_000, maxBuffer: 64 * 1024 * 1024, env: ENV },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * stageLine matches a stage's progress line, `[3/8] * registries     0.4 s  ...`, with its time in
 * either of formatDuration's forms (`12.3 s`, `3 min 05 s`) and a mark for done or unchanged.
 */
function stageLine(name: string): RegExp {
  return new RegExp(`\\] [*=] ${name} +(\\d+\\.\\d s|\\d+ min \\d\\d s)  `);
}

// The pattern itself can fail: no time, a skipped stage, or another stage's line do not match.
assert.match('[7/8] * deploy      3 min 05 s  deploy complete', stageLine('deploy'));
assert.match('[1/8] = host           0.2 s  ok', stageLine('host'));
assert.doesNotMatch('[7/8] * deploy  min', stageLine('deploy'));
assert.doesNotMatch('[8/8] - validate      0.1 s  skipped', stageLine('validate'));
assert.doesNotMatch('[2/8] * lab           1.0 s  x', stageLine('deploy'));

/** leftovers lists whatever of the lab still exists on this machine. */
async function leftovers(): Promise<string[]> {
  const c = await loadConfig(CONFIG);
  const found: string[] = [];
  const ns = (await runProcess(['ip', 'netns', 'list'])).stdout;
  for (const line of ns.split('\n')) if (line.startsWith(`${c.lab.name}-`)) found.push(`namespace ${line}`);
  const routes = (await runProcess(['ip', 'route', 'show', c.lab.subnet])).stdout.trim();
  if (routes) found.push(`route ${routes}`);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const l of mounts.split('\n'))
    if (l.includes(c.lab.dir) || l.includes(`/run/${c.lab.name}/`) || l.includes(`/run/netns/${c.lab.name}-`))
      found.push(`mount ${l}`);
  const ps = (await runProcess(['ps', '-eo', 'pid,args'])).stdout;
  for (const l of ps.split('\n'))
    if ((l.includes(c.lab.dir) || l.includes(`/run/${c.lab.name}/`)) && !l.includes('ps -eo'))
      found.push(`process ${l.trim()}`);
  for (const d of [c.lab.dir, `/run/${c.lab.name}`]) if (existsSync(d)) found.push(`folder ${d}`);
  const registered = join(ENV.OVERCLOUD_STACKS_DIR, `${c.lab.name}.json`);
  if (existsSync(registered)) found.push(`registered stack ${registered}`);
  return found;
}

describe('quickstart end to end (config/ci_minimal.yml)', { timeout: 45 * 60_000 }, () => {
  after(async () => {
    // Whatever happened above, leave nothing behind.
    await quickstart(['--teardown']);
  });

  let first: QuickstartReport;

  it('deploys the reduced real set on a controller and a compute, every container running and healthy', async () => {
    const r = await quickstart(['--json']);
    assert.equal(r.code, 0, `quickstart failed:\n${r.stderr.slice(-6000)}`);
    first = JSON.parse(r.stdout) as QuickstartReport;
    assert.deepEqual(
      first.stages.map((s) => s.name),
      ['host', 'lab', 'registries', 'prepare', 'build', 'upload', 'deploy', 'validate'],
    );
    // One progress line per stage, with its time; no stage skipped (the mark would be '-').
    for (const s of first.stages) assert.match(r.stderr, stageLine(s.name));
    assert.deepEqual(
      first.stages.filter((s) => s.skipped).map((s) => `${s.name}: ${s.detail}`),
      [],
    );
    const ctl = first.nodes.find((n) => n.role === 'Controller');
    assert.ok(ctl, 'a controller');
    // MySQL, Memcached, HAProxy, Keystone, Glance: at least one long-running container each.
    assert.ok(ctl.containers >= 5, `controller runs ${ctl.containers} containers`);
    assert.equal(ctl.running, ctl.containers);
    assert.equal(ctl.healthy, ctl.containers);
    // The deploy went through Ansible (deploy.driver: ansible in ci_minimal.yml).
    const lab = (await loadConfig(CONFIG)).lab.dir;
    assert.ok(existsSync(join(lab, 'stack', 'config-download', 'deploy_steps_playbook.yaml')));
    // The undercloud registry runs on this machine: the upload wrote its store in place.
    assert.match(first.stages.find((s) => s.name === 'upload')?.detail ?? '', /store written in place/);
    // ci_minimal.yml asks for validate: it must have run, and passed.
    const validate = first.stages.find((s) => s.name === 'validate');
    assert.ok(validate);
    assert.equal(validate.skipped ?? false, false, `validate was skipped: ${validate.detail}`);
    assert.match(validate.detail, /checks passed/);
  });

  it('the look-around needs no flags: the lab is the registered stack, entered by the command', async () => {
    const r = await quickstart([]);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /^ {2}bin\/overcloud container list$/m);
    assert.match(r.stdout, /^ {2}bin\/overcloud validate$/m);
    assert.doesNotMatch(r.stdout, /nsenter --net=\S+ bin\/overcloud container list/);
    // From the root namespace, with no stack in HOME: the lab's containers.
    const list = await cli(['container', 'list', '--format', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { node: string; name: string; status: string }[];
    assert.ok(
      rows.some(
        (x) => x.node === 'overcloud-controller-0' && x.name === 'keystone' && x.status === 'running',
      ),
    );
    const logs = await cli(['container', 'logs', 'overcloud-controller-0', 'keystone', '--tail', '5']);
    assert.equal(logs.code, 0, logs.stderr);
  });

  it('a second run changes nothing and says so', async () => {
    const r = await quickstart(['--json']);
    assert.equal(r.code, 0, r.stderr.slice(-6000));
    const second = JSON.parse(r.stdout) as QuickstartReport;
    assert.deepEqual(
      second.stages.filter((s) => s.changed).map((s) => `${s.name}: ${s.detail}`),
      [],
    );
    assert.equal(second.converged, true);
    assert.match(r.stderr, /converged: this run changed nothing/);
    assert.match(second.stages.find((s) => s.name === 'deploy')?.detail ?? '', /^no changes:/);
    // Ansible's own recap agrees: the last deploy changed nothing on any node.
    const log = await readFile(join((await loadConfig(CONFIG)).lab.dir, 'logs', 'deploy.log'), 'utf8');
    const last = log.slice(log.lastIndexOf('\n$ '));
    assert.match(last, /\[ansible\] overcloud-controller-0: ok=1 changed=0 unreachable=0 failed=0/);
    assert.match(last, /\[ansible\] overcloud-novacompute-0: ok=1 changed=0 unreachable=0 failed=0/);
  });

  it('--teardown removes namespaces, processes, routes, mounts and folders', async () => {
    assert.ok((await leftovers()).length > 0, 'the lab is up before the teardown');
    const r = await quickstart(['--teardown']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /teardown: removed \d+ item\(s\)/);
    assert.deepEqual(await leftovers(), []);
    const again = await quickstart(['--teardown']);
    assert.match(again.stdout, /teardown: nothing to remove/);
  });
});

describe('lab network safety', () => {
  const subnet = '10.231.26.0/24';
  after(async () => {
    await runProcess(['ip', 'route', 'del', subnet, 'dev', 'lo']);
  });

  it('refuses a subnet this machine routes, before creating anything', async () => {
    await runProcess(['ip', 'route', 'del', subnet, 'dev', 'lo']);
    const add = await runProcess(['ip', 'route', 'add', subnet, 'dev', 'lo']);
    assert.equal(add.code, 0, add.stderr);
    await assert.rejects(
      checkRoutes(['10.231.26.1']),
      (e: unknown) => e instanceof AppError && e.code === 'LAB_UNSAFE',
    );
    const config = parseConfigText(
      `containerized_overcloud: true\nlab: {subnet: ${subnet}, name: ocqsf, dir: /var/tmp/overcloud-quickstart-safety}\novercloud_nodes: [{role: Controller, count: 1}]\n`,
      'safety.yml',
      '/',
    );
    const topo = planTopology(config, [{ name: 'Controller' }]);
    await assert.rejects(
      labUp(config, topo, () => {}),
      /LAB_UNSAFE|already routed here/,
    );
    for (const p of ['/run/netns/ocqsf-uc', '/var/tmp/overcloud-quickstart-safety', '/run/ocqsf'])
      assert.equal(existsSync(p), false, `${p} was created`);
  });
});
