/**
 * `deploy --dry-run --json`: the plan's actions per node and step as a plain JSON document, made
 * from a dry run against fake nodes that run nothing yet.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan } from '../../src/deploy/apply.js';
import { type DeployPlan, planDeploy } from '../../src/deploy/plan.js';
import { DEPLOY_REPORT_FORMAT, deployReportDoc } from '../../src/deploy/report-doc.js';
import type { NodeConnection } from '../../src/process/index.js';
import { okResult } from '../support/process-result.js';
import { type Fixture, fixture, smallEnv } from './fixtures.js';

const ok = okResult;

/** emptyNode runs no container yet and holds every image the plan names. */
function emptyNode(plan: DeployPlan, name: string, calls: string[]): NodeConnection {
  const node = plan.nodes.find((n) => n.node.name === name)?.node;
  assert.ok(node);
  const images = plan.nodes.flatMap((n) => n.images).map((i) => ({ Id: `sha256:${i}`, Names: [i] }));
  return {
    node,
    async podman(args) {
      calls.push(args.join(' '));
      return ok();
    },
    async shell(script) {
      if (script.startsWith('podman ps')) return ok(`[]\n@@@\n${JSON.stringify(images)}`);
      calls.push(script);
      return ok();
    },
    async close() {},
  };
}

describe('deploy report document', () => {
  let fx: Fixture;
  let plan: DeployPlan;
  let passwords: string[];
  before(async () => {
    fx = await fixture();
    const input = (await fx.load(smallEnv())).input;
    plan = planDeploy(input);
    passwords = Object.values(input.passwords).filter((p) => p.length >= 8);
  });
  after(async () => fx.tmp.cleanup());

  it('lists what a dry run would create, per node and step, as plain data without secrets', async () => {
    const calls: string[] = [];
    const report = await applyPlan(
      plan,
      plan.nodes.map((n) => emptyNode(plan, n.node.name, calls)),
      {
        dryRun: true,
        healthTimeoutMs: 1000,
        pull: 'missing',
        insecureRegistries: new Set(),
        concurrency: 4,
        out: () => {},
      },
    );
    assert.deepEqual(
      calls.filter((c) => /^(run|rm|exec|pull)\b/.test(c)),
      [],
      'a dry run changes nothing',
    );
    const doc = deployReportDoc(plan, report, {
      stack: 'overcloud',
      dryRun: true,
      driver: 'ssh',
      durationMs: 1234,
    });
    assert.equal(doc.format, DEPLOY_REPORT_FORMAT);
    assert.equal(doc.dry_run, true);
    assert.equal(doc.changed, true);
    assert.equal(doc.seconds, 1.234);
    assert.deepEqual(
      doc.nodes.map((n) => n.name),
      plan.nodes.map((n) => n.node.name),
    );
    const creates = doc.nodes
      .flatMap((n) => n.steps.flatMap((s) => s.actions))
      .filter((a) => a.kind === 'create');
    assert.equal(creates.length, doc.counts.create);
    assert.ok(creates.length > 0);
    assert.ok(creates.every((a) => typeof a.container === 'string' && typeof a.image === 'string'));
    const text = JSON.stringify(doc);
    assert.deepEqual(JSON.parse(text), doc, 'plain data: a JSON round trip changes nothing');
    assert.ok(passwords.length > 0);
    for (const p of passwords) assert.ok(!text.includes(p), 'no password reaches the document');
  });
});
