/**
 * applyPlan against fake nodes (an injected connection that records every call): pull failures abort
 * before any change, a failing one-shot stops the deploy at its step with its logs, and a node that
 * already runs the plan gets no podman call but the state read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan } from '../../src/deploy/apply.js';
import { type DeployPlan, planDeploy } from '../../src/deploy/plan.js';
import { AppError } from '../../src/errors.js';
import type { NodeConnection, ProcessResult } from '../../src/process/index.js';
import { type Fixture, fixture, observedFrom, smallEnv } from './fixtures.js';

const result = (code: number, stdout = '', stderr = ''): ProcessResult => ({
  argv: [],
  code,
  signal: null,
  timedOut: false,
  stdout,
  stderr,
  dropped: { stdout: 0, stderr: 0 },
  durationMs: 1,
});

interface Fake {
  conn: NodeConnection;
  calls: string[];
}

/** fakeNode answers the state read from `ps`/`images`, and podman calls through `answer`. */
function fakeNode(
  plan: DeployPlan,
  name: string,
  ps: unknown[],
  images: unknown[],
  answer: (args: string[]) => ProcessResult,
): Fake {
  const calls: string[] = [];
  const node = plan.nodes.find((n) => n.node.name === name)?.node;
  assert.ok(node);
  return {
    calls,
    conn: {
      node,
      async podman(args) {
        calls.push(args.slice(0, 2).join(' '));
        return answer(args);
      },
      async shell(script) {
        if (script.startsWith('podman ps'))
          return result(0, `${JSON.stringify(ps)}\n@@@\n${JSON.stringify(images)}`);
        calls.push('sync-config');
        return result(0, 'changed config volume x\n');
      },
      async close() {},
    },
  };
}

const toPs = (o: ReturnType<typeof observedFrom>[number]) => ({
  Id: o.id,
  Names: [o.name],
  Image: o.image,
  ImageID: o.imageId,
  State: o.state,
  Status: o.status,
  ExitCode: o.exitCode,
  StartedAt: o.startedAt,
  Labels: o.labels,
});

describe('applyPlan with fake nodes', () => {
  let fx: Fixture;
  let plan: DeployPlan;
  before(async () => {
    fx = await fixture();
    plan = planDeploy((await fx.load(smallEnv())).input);
  });
  after(async () => fx.tmp.cleanup());
  const opts = {
    dryRun: false,
    healthTimeoutMs: 1000,
    pull: 'missing' as const,
    insecureRegistries: new Set(['reg.lab:5000']),
    concurrency: 4,
    out: () => {},
  };

  it('aborts before any change when an image cannot be pulled', async () => {
    const nodes = plan.nodes.map((n) =>
      fakeNode(plan, n.node.name, [], [], (args) =>
        args[0] === 'pull' && args.at(-1)?.includes('keystone')
          ? result(125, '', 'manifest unknown')
          : result(0),
      ),
    );
    await assert.rejects(
      applyPlan(
        plan,
        nodes.map((n) => n.conn),
        opts,
      ),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'PULL_FAILED' &&
        /keystone:1: exit 125: manifest unknown/.test(e.message),
    );
    for (const n of nodes)
      assert.deepEqual(
        n.calls.filter((c) => !c.startsWith('pull')),
        [],
        'only pulls happened',
      );
    const ctl = nodes.find((n) => n.conn.node.role === 'Controller');
    assert.ok(ctl?.calls.every((c) => c === 'pull -q'));
  });

  it('stops at the step of a failing one-shot, with its exit code and logs', async () => {
    const images = plan.nodes.flatMap((n) => n.images).map((i) => ({ Id: `sha256:${i}`, Names: [i] }));
    const lines: string[] = [];
    const nodes = plan.nodes.map((n) =>
      fakeNode(plan, n.node.name, [], images, (args) => {
        if (args[0] === 'run' && args.includes('--name=keystone_db_sync')) return result(1, 'db error');
        if (args[0] === 'logs') return result(0, 'ERROR: cannot reach the database\n');
        return result(0);
      }),
    );
    const report = await applyPlan(
      plan,
      nodes.map((n) => n.conn),
      { ...opts, out: (l) => lines.push(l) },
    );
    assert.equal(report.failure?.step, 3);
    assert.equal(report.failure?.container, 'keystone_db_sync');
    assert.equal(report.failure?.exitCode, 1);
    assert.match(
      lines.join('\n'),
      /FAILED keystone_db_sync: exited with 1, expected 0 \(exit code 1\)\n.*\n +\| ERROR: cannot reach the database/,
    );
    const calls = nodes.flatMap((n) => n.calls);
    assert.ok(calls.includes('run --name=nova_libvirt'), 'step 3 ran on the other node');
    for (const later of ['run --name=glance_api_db_sync', 'run --name=glance_api', 'run --name=nova_compute'])
      assert.ok(!calls.includes(later), `step 4 never ran (${later})`);
  });

  it('a node that runs the plan gets no podman call', async () => {
    const nodes = plan.nodes.map((n) => {
      const ps = observedFrom([...n.steps.values()].flat(), n.managedBy, 'sha256:x').map(toPs);
      return fakeNode(
        plan,
        n.node.name,
        ps,
        n.images.map((i) => ({ Id: 'sha256:x', Names: [i] })),
        () => result(0),
      );
    });
    const report = await applyPlan(
      plan,
      nodes.map((n) => n.conn),
      opts,
    );
    assert.equal(report.failure, undefined);
    assert.equal(report.counts.create + report.counts.replace + report.counts.remove + report.counts.exec, 0);
    for (const n of nodes) assert.deepEqual(n.calls, ['sync-config']);
  });
});
