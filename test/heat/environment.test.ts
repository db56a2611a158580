import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEnvironments, mergeEnvironments, parseEnvironment } from '../../src/heat/environment.js';
import { parseYaml } from '../../src/util/yaml.js';
import { tmpTree } from '../support/tmp.js';

test('relative template paths resolve against the environment file folder; resource types stay', () => {
  const env = parseEnvironment(
    parseYaml(
      'resource_registry:\n  OS::TripleO::Services::Keystone: ../docker/services/keystone.yaml\n  OS::TripleO::Services::Ntp: OS::Heat::None\n',
      '/usr/share/tht/environments/docker.yaml',
    ),
  );
  assert.equal(
    env.resourceRegistry['OS::TripleO::Services::Keystone'],
    '/usr/share/tht/docker/services/keystone.yaml',
  );
  assert.equal(env.resourceRegistry['OS::TripleO::Services::Ntp'], 'OS::Heat::None');
});

test('later environments win, for registry entries and parameters alike', () => {
  const a = parseEnvironment(
    parseYaml('resource_registry:\n  X: /a.yaml\nparameter_defaults:\n  P: 1\n  Q: 1\n', '/e/a.yaml'),
  );
  const b = parseEnvironment(
    parseYaml('resource_registry:\n  X: OS::Heat::None\nparameter_defaults:\n  P: 2\n', '/e/b.yaml'),
  );
  const m = mergeEnvironments([a, b]);
  assert.equal(m.resourceRegistry.X, 'OS::Heat::None');
  assert.deepEqual(m.parameterDefaults, { P: 2, Q: 1 });
  assert.deepEqual(m.files, ['/e/a.yaml', '/e/b.yaml']);
});

test('an empty file is an empty environment', () => {
  assert.deepEqual(parseEnvironment(parseYaml('', '/e/empty.yaml')).resourceRegistry, {});
});

test('unknown top-level keys are refused with the file, line and a suggestion', () => {
  assert.throws(
    () => parseEnvironment(parseYaml('resource_registry: {}\nparamater_defaults:\n  A: 1\n', '/e/typo.yaml')),
    (e: Error & { code?: string; hint?: string }) =>
      e.code === 'ENV_INVALID' &&
      e.message.includes('/e/typo.yaml:2') &&
      e.hint === 'did you mean "parameter_defaults"?',
  );
});

test('a section that is not a mapping is refused', () => {
  assert.throws(
    () => parseEnvironment(parseYaml('parameter_defaults: [1, 2]\n', '/e/x.yaml')),
    /"parameter_defaults" must be a mapping/,
  );
});

test('malformed YAML names file, line and column', async () => {
  const t = await tmpTree({ 'bad.yaml': 'parameter_defaults:\n  A: [1, 2\n  B: 3\n' });
  try {
    await assert.rejects(loadEnvironments([t.path('bad.yaml')]), (e: Error & { code?: string }) => {
      return (
        e.code === 'YAML_INVALID' &&
        new RegExp(`${t.path('bad.yaml')}:\\d+:\\d+: malformed YAML`).test(e.message)
      );
    });
  } finally {
    await t.cleanup();
  }
});

test('a missing environment file is named', async () => {
  await assert.rejects(
    loadEnvironments(['/nonexistent/env.yaml']),
    /cannot read environment file \/nonexistent\/env.yaml: no such file/,
  );
});
