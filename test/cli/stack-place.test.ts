/**
 * The look-around commands find a stack without flags: the user's own (~/.overcloud/<stack>) when
 * it holds a deploy, else the one registered stack (the quickstart's lab), else a clear error
 * listing the registered ones. A registered stack's namespace is entered by the command itself: the
 * proof is an SSH connection to a closed loopback port, refused in the root namespace but
 * unreachable in a fresh namespace whose loopback is down.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerStack, resolveStack, unregisterStack } from '../../src/deploy/known-stacks.js';
import { isAppError } from '../../src/errors.js';
import { packageRoot } from '../../src/util/paths.js';
import { freePort } from '../support/distribution.js';
import { run, runStatus } from '../support/exec.js';
import { type TmpTree, tmpTree } from '../support/tmp.js';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'run.js');

describe('finding the stack without flags', () => {
  let t: TmpTree;
  const saved = { stacks: process.env.OVERCLOUD_STACKS_DIR, state: process.env.OVERCLOUD_STATE_DIR };
  const netnsName = `ocstk-${process.pid}`;
  const netns = `/run/netns/${netnsName}`;
  let closedPort = 0;

  /** stateWith writes a state folder whose last deploy has one SSH node at 127.0.0.1:closedPort. */
  const stateWith = async (name: string): Promise<string> => {
    const dir = t.path(name);
    await mkdir(dir, { recursive: true });
    const inventory = {
      nodes: [
        {
          name: 'n0',
          role: 'Controller',
          address: '127.0.0.1',
          port: closedPort,
          user: 'root',
          connection: 'ssh',
        },
      ],
      ssh: { options: { StrictHostKeyChecking: 'no', UserKnownHostsFile: '/dev/null' } },
    };
    const record = { stack: 'overcloud', finishedAt: new Date().toISOString(), ok: true, inventory };
    await writeFile(join(dir, 'last-deploy.json'), JSON.stringify(record));
    return dir;
  };
  const cli = (args: string[]) =>
    runStatus(process.execPath, [CLI, ...args], {
      env: { ...process.env, HOME: t.path('home'), OVERCLOUD_STACKS_DIR: t.path('stacks') },
    });

  before(async () => {
    t = await tmpTree({});
    process.env.OVERCLOUD_STACKS_DIR = t.path('stacks');
    process.env.OVERCLOUD_STATE_DIR = t.path('home', '.overcloud');
    closedPort = await freePort();
    await run('ip', ['netns', 'add', netnsName]);
  });
  after(async () => {
    process.env.OVERCLOUD_STACKS_DIR = saved.stacks;
    process.env.OVERCLOUD_STATE_DIR = saved.state;
    if (saved.stacks === undefined) delete process.env.OVERCLOUD_STACKS_DIR;
    if (saved.state === undefined) delete process.env.OVERCLOUD_STATE_DIR;
    await runStatus('ip', ['netns', 'del', netnsName]);
    await t.cleanup();
  });

  it('no stack anywhere: the own folder, whose missing record the command reports', async () => {
    assert.deepEqual(await resolveStack('overcloud'), {
      stateDir: t.path('home', '.overcloud', 'overcloud'),
    });
    const r = await cli(['container', 'list']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no deploy recorded in .*\/home\/\.overcloud\/overcloud/);
  });

  it('one registered stack: found, with its namespace; a stale one (no record) is ignored', async () => {
    const lab = await stateWith('lab-state');
    await registerStack({
      id: 'ocq',
      stack: 'overcloud',
      stateDir: lab,
      netns,
      description: 'quickstart (lab ocq)',
    });
    await registerStack({
      id: 'gone',
      stack: 'overcloud',
      stateDir: t.path('nothing'),
      description: 'torn down',
    });
    assert.deepEqual(await resolveStack('overcloud'), { stateDir: lab, netns });
    assert.deepEqual(
      await resolveStack('overcloud', lab),
      { stateDir: lab, netns },
      '--state-dir keeps the namespace',
    );
    assert.deepEqual(await resolveStack('other'), { stateDir: t.path('home', '.overcloud', 'other') });
  });

  it('the command enters the registered namespace by itself', async () => {
    const inside = await cli(['container', 'list']);
    assert.notEqual(inside.code, 0);
    assert.match(inside.stderr, /cannot reach node n0/);
    assert.match(inside.stderr, /Network is unreachable/, 'ssh ran in the namespace (loopback down)');
    // The same record without a namespace: ssh runs here, and the closed port refuses.
    const here = await stateWith('here-state');
    const direct = await cli(['container', 'list', '--state-dir', here]);
    assert.match(direct.stderr, /Connection refused/);
  });

  it("the user's own stack wins over a registered one", async () => {
    const own = await stateWith(join('home', '.overcloud', 'overcloud'));
    assert.deepEqual(await resolveStack('overcloud'), { stateDir: own });
    const r = await cli(['container', 'list']);
    assert.match(r.stderr, /Connection refused/, 'run here, not in the lab namespace');
    await runStatus('rm', ['-rf', own]);
  });

  it('several registered stacks: an error listing each with its --state-dir', async () => {
    const second = await stateWith('second-state');
    await registerStack({
      id: 'ocqci',
      stack: 'overcloud',
      stateDir: second,
      description: 'quickstart (lab ocqci)',
    });
    await assert.rejects(resolveStack('overcloud'), (e: unknown) => {
      assert.ok(isAppError(e));
      assert.equal(e.code, 'USAGE');
      assert.match(e.message, /2 stacks named overcloud are registered/);
      assert.match(e.message, new RegExp(`--state-dir ${t.path('lab-state')} +# quickstart \\(lab ocq\\)`));
      assert.match(e.message, new RegExp(`--state-dir ${second} +# quickstart \\(lab ocqci\\)`));
      return true;
    });
    const r = await cli(['validate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /registered on this machine/);
    await unregisterStack('ocqci');
    await unregisterStack('gone');
    assert.deepEqual((await resolveStack('overcloud')).netns, netns);
  });
});
