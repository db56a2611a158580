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

test('a key repeated in an environment file takes its last value, as Heat does, with a warning', async () => {
  const t = await tmpTree({
    'docker_registry.yaml': [
      'parameter_defaults:',
      '  DockerInsecureRegistryAddress:',
      '  - 192.168.24.1:8787',
      '  DockerKeystoneImage: a/keystone:1',
      '  DockerKeystoneImage: a/keystone:2',
      'resource_registry:',
      '  X: /x.yaml',
      'parameter_defaults:',
      '  DockerInsecureRegistryAddress: 192.168.24.1:8787',
      '',
    ].join('\n'),
  });
  try {
    const env = await loadEnvironments([t.path('docker_registry.yaml')]);
    // The whole second parameter_defaults replaces the first (PyYAML keeps the last value; no merge).
    assert.deepEqual(env.parameterDefaults, { DockerInsecureRegistryAddress: '192.168.24.1:8787' });
    assert.deepEqual(env.resourceRegistry, { X: '/x.yaml' });
    const file = t.path('docker_registry.yaml');
    assert.deepEqual(env.warnings, [
      `${file}:8: parameter_defaults repeats the key of line 1; the value of line 8 is used, as Heat's YAML loader does`,
      `${file}:5: parameter_defaults.DockerKeystoneImage repeats the key of line 4; the value of line 5 is used, as Heat's YAML loader does`,
    ]);
  } finally {
    await t.cleanup();
  }
});

test('three repeats name every earlier line; warnings of several files merge in order', () => {
  const a = parseEnvironment(
    parseYaml('parameter_defaults:\n  P: 1\n  P: 2\n  P: 3\n', '/e/a.yaml', { repeatedKeys: 'last-wins' }),
  );
  const b = parseEnvironment(
    parseYaml('parameter_defaults:\n  Q: 1\n  Q: 2\n', '/e/b.yaml', { repeatedKeys: 'last-wins' }),
  );
  assert.deepEqual(a.parameterDefaults, { P: 3 });
  const m = mergeEnvironments([a, b]);
  assert.equal(m.warnings.length, 2);
  assert.match(m.warnings[0] ?? '', /^\/e\/a\.yaml:4: parameter_defaults\.P repeats the key of lines 2, 3;/);
  assert.match(m.warnings[1] ?? '', /^\/e\/b\.yaml:3: parameter_defaults\.Q repeats the key of line 2;/);
});

test('other YAML inputs stay strict: a repeated key is an error naming the file and line', () => {
  assert.throws(
    () => parseYaml('- name: Controller\n  name: Compute\n', '/e/roles_data.yaml'),
    (e: Error) => /^\/e\/roles_data\.yaml:2:\d+: malformed YAML: Map keys must be unique/.test(e.message),
  );
  const lenient = parseYaml('a: 1\na: 2\n', '/e/x.yaml', { repeatedKeys: 'last-wins' });
  assert.equal(lenient.lineOf(['a']), 2, 'a key path points at the occurrence that counts');
});
