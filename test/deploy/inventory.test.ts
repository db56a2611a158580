import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localhostInventory, parseInventory } from '../../src/deploy/inventory.js';
import { AppError } from '../../src/errors.js';
import { sshArgs } from '../../src/process/index.js';
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
