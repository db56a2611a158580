/**
 * The pure parts of the Ansible driver: the node plan document (round trip, errors naming the field),
 * the inventory and playbook of the config-download folder (checked by ansible-playbook itself), and
 * the folding of ansible-playbook's JSON-lines events into the deploy report.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type AnsibleRun, foldEvent, reportFromRun, writeConfigDownload } from '../../src/deploy/ansible.js';
import {
  ansibleInventory,
  type ConfigDownloadOptions,
  configDownloadFiles,
  deployStepsPlaybook,
  PLAYBOOK,
} from '../../src/deploy/config-download.js';
import type { Inventory } from '../../src/deploy/inventory.js';
import { nodePlanDoc, parseNodePlanDoc } from '../../src/deploy/node-plan-doc.js';
import { decodePlan, type PaunchResult } from '../../src/deploy/paunch.js';
import { type DeployPlan, planDeploy } from '../../src/deploy/plan.js';
import { AppError } from '../../src/errors.js';
import { type Fixture, fixture, smallEnv } from './fixtures.js';

const OPTS: ConfigDownloadOptions = {
  stack: 'overcloud',
  nodeCommand: ['/usr/bin/node', '/opt/overcloud/dist/src/cli/run.js'],
  nodeDir: '/var/lib/tripleo-config/overcloud',
  healthTimeoutS: 60,
  pull: 'missing',
  insecureRegistries: ['reg.lab:5000'],
  forks: 8,
};

describe('config-download', () => {
  let fx: Fixture;
  let plan: DeployPlan;
  let inventory: Inventory;
  before(async () => {
    fx = await fixture();
    const loaded = await fx.load(smallEnv());
    plan = planDeploy(loaded.input);
    inventory = {
      ...loaded.inventory,
      ssh: { identityFile: '/keys/id', options: { StrictHostKeyChecking: 'no', LogLevel: 'ERROR' } },
    };
  });
  after(async () => fx.tmp.cleanup());

  it('a node plan survives the document round trip (config_data recomputed byte for byte)', () => {
    for (const n of plan.nodes) {
      const back = parseNodePlanDoc(JSON.stringify(nodePlanDoc(n)), 'test');
      assert.deepEqual(back, { ...n, node: { ...n.node, user: 'root', connection: 'local' } });
    }
    const doc = nodePlanDoc(plan.nodes[0] as DeployPlan['nodes'][0]);
    assert.deepEqual(Object.keys(doc.containers), ['step_1', 'step_2', 'step_3', 'step_4', 'step_5']);
    assert.equal(decodePlan(Buffer.from(JSON.stringify(doc)).toString('base64')), JSON.stringify(doc));
  });

  it('a bad node plan names the source and the field', () => {
    const ctl = plan.nodes.find((n) => n.node.name === 'overcloud-controller-0');
    assert.ok(ctl);
    const doc = nodePlanDoc(ctl) as unknown as {
      containers: { step_1: { spec: Record<string, unknown> }[] };
    };
    (doc.containers.step_1[0] as { spec: Record<string, unknown> }).spec.imagee = 'x';
    assert.throws(
      () => parseNodePlanDoc(JSON.stringify(doc), '/n/node-plan.json'),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'TEMPLATE_INVALID' &&
        /^\/n\/node-plan\.json: node plan field containers\.step_1\.0\.spec: /.test(e.message),
    );
    assert.throws(() => parseNodePlanDoc('{"format": "other"}', 'stdin'), /stdin: node plan field format/);
  });

  it('the inventory has one group per role under overcloud, with our SSH settings', () => {
    const local: Inventory = {
      ...inventory,
      nodes: [
        ...inventory.nodes,
        { name: 'box', role: 'Compute', address: 'localhost', user: 'root', connection: 'local' },
      ],
    };
    const inv = ansibleInventory(local, OPTS) as {
      all: {
        vars: Record<string, unknown>;
        children: { overcloud: { children: Record<string, { hosts: Record<string, unknown> }> } };
      };
    };
    const groups = inv.all.children.overcloud.children;
    assert.deepEqual(Object.keys(groups), ['Compute', 'Controller']);
    assert.deepEqual(groups.Controller?.hosts, {
      'overcloud-controller-0': { ansible_host: '10.0.0.11', ansible_user: 'root' },
    });
    assert.deepEqual(groups.Compute?.hosts.box, { ansible_connection: 'local' });
    assert.equal(inv.all.vars.ansible_ssh_private_key_file, '/keys/id');
    assert.equal(inv.all.vars.ansible_ssh_common_args, '-o StrictHostKeyChecking=no -o LogLevel=ERROR');
    assert.deepEqual(inv.all.vars.overcloud_command, OPTS.nodeCommand);
    assert.deepEqual(inv.all.vars.overcloud_insecure_registries, ['reg.lab:5000']);
  });

  it('the playbook: pull, config, steps 1..5 as barriers; every task reads its changed state from paunch', () => {
    const [play] = deployStepsPlaybook() as {
      hosts: string;
      any_errors_fatal: boolean;
      tasks: {
        name: string;
        when?: string;
        changed_when: string;
        register: string;
        'ansible.builtin.command': { argv: string };
      }[];
    }[];
    assert.ok(play);
    assert.equal(play.hosts, 'overcloud');
    assert.equal(play.any_errors_fatal, true);
    assert.deepEqual(
      play.tasks.map((t) => t.register),
      ['overcloud_pull', 'overcloud_config', ...[1, 2, 3, 4, 5].map((s) => `overcloud_step_${s}`)],
    );
    assert.equal(play.tasks[0]?.when, undefined, 'the pull phase always runs');
    assert.match(play.tasks[1]?.when ?? '', /overcloud_pull\.stdout_lines .*\)\.config$/);
    assert.match(play.tasks[4]?.when ?? '', /^3 in \(overcloud_pull\.stdout_lines/);
    assert.match(play.tasks[4]?.['ansible.builtin.command'].argv ?? '', /'apply', '--step', '3'/);
    for (const t of play.tasks) assert.match(t.changed_when, new RegExp(`^\\(${t.register}\\.stdout_lines`));
  });

  describe('the folder, checked by ansible-playbook', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'oc-cd-'));
      await writeConfigDownload(join(dir, 'cd'), configDownloadFiles(plan, inventory, OPTS));
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('is private (node plans hold passwords) and parses as a playbook with seven tasks', async () => {
      const cd = join(dir, 'cd');
      assert.equal((await stat(cd)).mode & 0o777, 0o700);
      assert.equal((await stat(join(cd, 'overcloud-compute-0', 'node-plan.json'))).mode & 0o777, 0o600);
      const { stdout } = await promisify(execFile)('ansible-playbook', ['--list-tasks', PLAYBOOK], {
        cwd: cd,
        env: { ...process.env, ANSIBLE_CONFIG: join(cd, 'ansible.cfg') },
      });
      const tasks = stdout.split('\n').filter((l) => /^\s{6}\S/.test(l));
      assert.equal(tasks.length, 7, stdout);
      const { stdout: hosts } = await promisify(execFile)('ansible-playbook', ['--list-hosts', PLAYBOOK], {
        cwd: cd,
        env: { ...process.env, ANSIBLE_CONFIG: join(cd, 'ansible.cfg') },
      });
      // Ansible lists a group's hosts in no fixed order.
      const listed = hosts.slice(hosts.indexOf('hosts (2):')).split(/\s+/).slice(2, 4).sort();
      assert.deepEqual(listed, ['overcloud-compute-0', 'overcloud-controller-0'], hosts);
    });
  });

  describe('folding ansible-playbook events', () => {
    const zero = { create: 0, replace: 0, remove: 0, unchanged: 0, exec: 0, 'skip-exec': 0 };
    const event = (kind: string, host: string, stdout: string, extra: object = {}): string =>
      JSON.stringify({ _event: kind, hosts: { [host]: { stdout, ...extra } }, task: { name: 'T' } });
    const resultLine = (r: PaunchResult): string => JSON.stringify(r);

    it('counts what ran, takes the prediction for skipped steps, relays the node lines', () => {
      const run: AnsibleRun = { results: [], errors: [], stats: {} };
      const lines: string[] = [];
      const pull: PaunchResult = {
        node: 'n0',
        phase: 'pull',
        changed: false,
        pulled: [],
        steps: [3],
        counts: { 1: { ...zero, unchanged: 2 }, 3: { ...zero, replace: 1 } },
      };
      const step3: PaunchResult = {
        node: 'n0',
        phase: 'apply',
        step: 3,
        changed: true,
        counts: { 3: { ...zero, replace: 1, unchanged: 1 } },
      };
      foldEvent(run, event('v2_runner_on_ok', 'n0', `[steps] n0: work\n${resultLine(pull)}`), (l) =>
        lines.push(l),
      );
      foldEvent(run, event('v2_runner_on_skipped', 'n0', ''), (l) => lines.push(l));
      foldEvent(run, event('v2_runner_on_ok', 'n0', `[step 3] n0: replace x\n${resultLine(step3)}`), (l) =>
        lines.push(l),
      );
      foldEvent(
        run,
        JSON.stringify({ _event: 'v2_playbook_on_stats', stats: { n0: { ok: 2, changed: 1 } } }),
        () => {},
      );
      assert.deepEqual(lines, ['[steps] n0: work', '[step 3] n0: replace x']);
      const report = reportFromRun(run, ['n0']);
      assert.deepEqual(report.counts, { ...zero, unchanged: 3, replace: 1 });
      assert.deepEqual(run.stats, { n0: { ok: 2, changed: 1 } });
    });

    it('a failed pull anywhere is PULL_FAILED; an unreachable node is NODE_COMMAND_FAILED', () => {
      const run: AnsibleRun = { results: [], errors: [], stats: {} };
      const pull: PaunchResult = {
        node: 'n0',
        phase: 'pull',
        changed: false,
        pullErrors: ['n0: img: exit 125'],
      };
      foldEvent(run, event('v2_runner_on_failed', 'n0', resultLine(pull), { rc: 1 }), () => {});
      assert.throws(
        () => reportFromRun(run, ['n0']),
        (e: unknown) => e instanceof AppError && e.code === 'PULL_FAILED',
      );
      const down: AnsibleRun = { results: [], errors: [], stats: {} };
      foldEvent(down, event('v2_runner_on_unreachable', 'n1', '', { msg: 'ssh: connect refused' }), () => {});
      assert.throws(
        () => reportFromRun(down, ['n1']),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === 'NODE_COMMAND_FAILED' &&
          /n1: T: unreachable: ssh: connect refused/.test(e.message),
      );
    });
  });
});
