/**
 * Kernel requirement checks run for real through a node connection (this machine, `sh -s`): each
 * check answers on its own line, a failing one names the feature, a check that breaks the script's
 * syntax cannot hide the others' answers, and a node without checks is not asked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Probe, probeNodes } from '../../src/deploy/requirements.js';
import { localConnection, runProcess } from '../../src/process/index.js';

const node = {
  name: 'n0',
  role: 'Compute',
  address: '127.0.0.1',
  user: 'root',
  connection: 'local' as const,
};
const S = (s: string): string => `OS::TripleO::Services::${s}`;

test('probeNodes runs every check on the node and leaves out the services whose feature is missing', async () => {
  const probes = new Map<string, Probe[]>([
    [
      'n0',
      [
        { service: S('Present'), feature: 'a feature that is there', check: 'test -d /' },
        { service: S('Absent'), feature: 'feature one', check: 'test -e /nonexistent/one' },
        { service: S('Absent'), feature: 'feature two', check: 'exit 3' },
        { service: S('Quoted'), feature: "it's quoted", check: "grep -q 'never-there' /dev/null" },
      ],
    ],
  ]);
  const left = await probeNodes(probes, [localConnection(node, runProcess)]);
  assert.deepEqual(left, {
    n0: {
      [S('Absent')]: 'this node has no feature one, feature two',
      [S('Quoted')]: "this node has no it's quoted",
    },
  });
  assert.deepEqual(await probeNodes(new Map(), [localConnection(node, runProcess)]), {});
});
