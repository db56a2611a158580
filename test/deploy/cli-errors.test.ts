/**
 * The deploy CLI's input errors: reported before any node is touched, with exit status 2 and a hint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';
import { type TmpTree, tmpTree } from '../support/tmp.js';
import { INVENTORY, smallEnv } from './fixtures.js';
import { standInDeploy } from './stand-in.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(packageRoot(), 'dist', 'src', 'cli', 'run.js'), ...args],
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('overcloud deploy input errors', () => {
  let tmp: TmpTree;
  before(async () => {
    tmp = await tmpTree({
      'env.yaml': smallEnv(),
      'inventory.yaml': INVENTORY,
      'bad-inventory.yaml': 'nodes:\n  - {name: a, role: Nope, address: 10.0.0.1}\n',
      'bad-def.yaml': 'resource_registry:\n  OS::TripleO::Services::Memcached: ./def.yaml\n',
      'def.yaml':
        'service_name: memcached\ndocker_config:\n  step_1:\n    memcached: {image: x, netwrok: host}\n',
    });
  });
  after(async () => tmp.cleanup());

  it('a service without a container definition names the service and docker.yaml', async () => {
    const r = await cli([
      'deploy',
      '--dry-run',
      '-e',
      tmp.path('env.yaml'),
      '--state-dir',
      tmp.path('state'),
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /service OS::TripleO::Services::Memcached \(role Controller\) maps to .*puppet\/services\/memcached\.yaml/,
    );
    assert.match(r.stderr, /hint: include -e <templates>\/environments\/docker\.yaml/);
  });

  it('an inventory with an unknown role, and a definition with a misspelt key', async () => {
    const inv = await cli([
      'deploy',
      '--dry-run',
      '--inventory',
      tmp.path('bad-inventory.yaml'),
      '--state-dir',
      tmp.path('state'),
    ]);
    assert.equal(inv.code, 2);
    assert.match(inv.stderr, /bad-inventory\.yaml:2: node a: unknown role Nope/);
    const def = await cli(
      standInDeploy(tmp.path('env.yaml'), [
        '-e',
        tmp.path('bad-def.yaml'),
        '--dry-run',
        '--state-dir',
        tmp.path('state'),
      ]),
    );
    assert.equal(def.code, 2);
    assert.match(def.stderr, /def\.yaml: docker_config\.step_1\.memcached: .*netwrok/);
  });

  it('the Ansible flags: no --dry-run with --config-download, no --output-dir without it', async () => {
    const dry = await cli(['deploy', '--dry-run', '--config-download', '--state-dir', tmp.path('state')]);
    assert.equal(dry.code, 2);
    assert.match(dry.stderr, /--dry-run goes without --config-download/);
    const out = await cli(['deploy', '--output-dir', tmp.path('cd'), '--state-dir', tmp.path('state')]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--output-dir and --node-command go with --config-download/);
  });

  it('--config-download-only writes the folder and touches no node', async () => {
    const r = await cli(
      standInDeploy(tmp.path('env.yaml'), [
        '--inventory',
        tmp.path('inventory.yaml'),
        '--state-dir',
        tmp.path('state'),
        '--config-download-only',
        '--output-dir',
        tmp.path('cd'),
      ]),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /config download written: cd .*\/cd && ansible-playbook deploy_steps_playbook\.yaml/,
    );
    assert.doesNotMatch(r.stdout, /\[ansible\]|no changes|deploy complete/);
    for (const f of [
      'ansible.cfg',
      'inventory.yaml',
      'deploy_steps_playbook.yaml',
      'overcloud-controller-0/node-plan.json',
    ])
      assert.ok(existsSync(tmp.path(join('cd', f))), f);
  });
});
