import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnRunner } from '../../src/deploy/exec.js';
import { localhostInventory, parseInventory } from '../../src/deploy/inventory.js';
import { sshArgs } from '../../src/deploy/node.js';
import { AppError } from '../../src/errors.js';
import { parseYaml } from '../../src/util/yaml.js';

const roles = [{ name: 'Controller', tags: ['primary', 'controller'] }, { name: 'Compute' }];

describe('inventory', () => {
  it('parses nodes, defaults the user and picks local for loopback addresses', () => {
    const inv = parseInventory(
      parseYaml(
        'nodes:\n  - {name: c0, role: Controller, address: 127.0.0.1}\n  - {name: n0, role: Compute, address: 10.1.1.2, user: heat-admin, port: 2222}\nssh: {identity_file: /k, options: {StrictHostKeyChecking: "no"}}\n',
        'inv.yaml',
      ),
      roles,
    );
    assert.deepEqual(
      inv.nodes.map((n) => [n.name, n.user, n.connection]),
      [
        ['c0', 'root', 'local'],
        ['n0', 'heat-admin', 'ssh'],
      ],
    );
    const args = sshArgs(inv.nodes[1] as (typeof inv.nodes)[1], inv.ssh, '/tmp/cm');
    assert.deepEqual(args.slice(-4), ['-p', '2222', '-l', 'heat-admin']);
    assert.ok(args.includes('StrictHostKeyChecking=no') && args.includes('/k'));
  });
  it('rejects unknown roles and duplicate names with the line', () => {
    assert.throws(
      () =>
        parseInventory(parseYaml('nodes:\n  - {name: a, role: Storage, address: x}\n', 'inv.yaml'), roles),
      (e: unknown) =>
        e instanceof AppError &&
        e.code === 'INVENTORY_INVALID' &&
        /inv\.yaml:2: node a: unknown role Storage/.test(e.message),
    );
    assert.throws(
      () =>
        parseInventory(
          parseYaml(
            'nodes:\n  - {name: a, role: Compute, address: x}\n  - {name: a, role: Compute, address: y}\n',
            'i.yaml',
          ),
          roles,
        ),
      /listed twice/,
    );
  });
  it('localhost runs the primary role', () => {
    assert.deepEqual(localhostInventory([{ name: 'Compute' }, ...roles]).nodes[0]?.role, 'Controller');
  });
});

describe('spawnRunner', () => {
  it('returns exit code and output, feeds stdin, and kills on time-out', async () => {
    const r = await spawnRunner(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello' });
    assert.deepEqual([r.code, r.stdout, r.stderr.trim(), r.timedOut], [3, 'hello', 'err', false]);
    const slow = await spawnRunner(['sleep', '5'], { timeoutMs: 100 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.code, null);
    const missing = await spawnRunner(['/nonexistent/tool']);
    assert.equal(missing.code, 127);
  });
});
