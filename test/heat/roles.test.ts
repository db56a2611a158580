import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeEnvironments, parseEnvironment } from '../../src/heat/environment.js';
import { enabledServices, loadRoles, parseRoles } from '../../src/heat/roles.js';
import { buildServiceFilter } from '../../src/heat/services.js';
import { templatesPath } from '../../src/util/paths.js';
import { parseYaml } from '../../src/util/yaml.js';

const S = (n: string) => `OS::TripleO::Services::${n}`;

test('the shipped roles are the Pike defaults', async () => {
  const roles = await loadRoles(templatesPath('roles_data.yaml'));
  assert.deepEqual(
    roles.map((r) => [r.name, r.CountDefault ?? 0, r.ServicesDefault?.length]),
    [
      ['Controller', 1, 124],
      ['Compute', 1, 36],
      ['BlockStorage', 0, 21],
      ['ObjectStorage', 0, 20],
      ['CephStorage', 0, 19],
    ],
  );
  assert.deepEqual(roles[0]?.tags, ['primary', 'controller']);
});

const roles = parseRoles(
  parseYaml(
    `- name: Controller
  CountDefault: 1
  ServicesDefault: [${S('Keystone')}, ${S('NovaApi')}]
- name: Compute
  CountDefault: 1
  ServicesDefault: [${S('NovaCompute')}, ${S('NovaLibvirt')}]
- name: Storage
  ServicesDefault: [${S('SwiftStorage')}]
`,
    '/r.yaml',
  ),
);

test('enabled services: roles with a count above zero, <Role>Services replacing the default list', () => {
  assert.deepEqual([...enabledServices(roles, {}).keys()].sort(), [
    S('Keystone'),
    S('NovaApi'),
    S('NovaCompute'),
    S('NovaLibvirt'),
  ]);
  assert.deepEqual([...enabledServices(roles, { ComputeCount: 0, StorageCount: '2' }).keys()].sort(), [
    S('Keystone'),
    S('NovaApi'),
    S('SwiftStorage'),
  ]);
  assert.deepEqual([...enabledServices(roles, { ControllerServices: [S('Keystone')] }).keys()].sort(), [
    S('Keystone'),
    S('NovaCompute'),
    S('NovaLibvirt'),
  ]);
});

test('a count that is not a whole number is refused by name', () => {
  assert.throws(
    () => enabledServices(roles, { ComputeCount: 'two' }),
    /parameter_defaults.ComputeCount must be a whole number/,
  );
});

test('the filter drops services mapped to OS::Heat::None or to host templates', () => {
  const env = mergeEnvironments([
    parseEnvironment(
      parseYaml(
        `resource_registry:\n  ${S('Keystone')}: OS::Heat::None  # not this time\n  ${S('NovaApi')}: ../puppet/services/nova-api.yaml\n  ${S('NovaCompute')}: ../docker/services/nova-compute.yaml\n`,
        '/tht/environments/e.yaml',
      ),
    ),
  ]);
  const f = buildServiceFilter(roles, env);
  assert.deepEqual([...f.services].sort(), [S('NovaCompute'), S('NovaLibvirt')]);
  // The verdict names where the mapping is and quotes its comment (prepare --explain prints it).
  assert.deepEqual(f.verdicts.get(S('Keystone')), {
    enabled: false,
    reason: 'mapped to OS::Heat::None (/tht/environments/e.yaml:2: not this time)',
  });
});

test('bad roles files are refused with the file and the role', () => {
  assert.throws(
    () => parseRoles(parseYaml('[]\n', '/r.yaml')),
    /\/r.yaml: a roles file must be a non-empty list of roles/,
  );
  assert.throws(() => parseRoles(parseYaml('roles: {}\n', '/r.yaml')), /non-empty list/);
  assert.throws(
    () => parseRoles(parseYaml('- name: A\n- CountDefault: 1\n', '/r.yaml')),
    /\/r.yaml:2: role #2 field name/,
  );
  assert.throws(
    () => parseRoles(parseYaml('- name: A\n- name: A\n', '/r.yaml')),
    /role "A" is defined twice/,
  );
});
