import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openstackClient } from '../../src/validate/openstack.js';
import { clientPython, Runner } from '../../src/validate/openstack-runner.js';

// No cloud needed: the client's own answers (its version, a refused connection) show that a runner
// runs commands as the `openstack` executable does, one after another, each with its own output.
const rc = {
  OS_AUTH_URL: 'http://127.0.0.1:9/v3',
  OS_USERNAME: 'admin',
  OS_PASSWORD: 'x',
  OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_IDENTITY_API_VERSION: '3',
};

test('a runner answers command after command, each with its own status and output', async () => {
  const python = clientPython(process.env);
  assert.ok(python, 'the openstack executable names its interpreter');
  const r = new Runner({ ...process.env, ...rc }, python);
  try {
    assert.equal(await r.ready, true);
    const version = await r.ask(['--version'], 30_000);
    assert.equal(version?.code, 0);
    assert.match(`${version?.out}${version?.err}`, /openstack \d+\.\d+/);
    const refused = await r.ask(['token', 'issue'], 60_000);
    assert.notEqual(refused?.code, 0);
    assert.match(refused?.err ?? '', /127\.0\.0\.1:9|connect|refused/i);
    const again = await r.ask(['--version'], 30_000);
    assert.equal(again?.code, 0);
    assert.doesNotMatch(again?.err ?? '', /127\.0\.0\.1:9/, 'an earlier command leaks into a later one');
  } finally {
    r.close();
  }
});

test('a command past its time-out is killed and reported; the next one still runs', async () => {
  const os = openstackClient(rc);
  try {
    await assert.rejects(os.run(['token', 'issue'], 1), /killed/);
    assert.match(await os.run(['--version']), /openstack \d+\.\d+|^$/);
  } finally {
    os.close();
  }
});

test('the client fails with the command and the reason, as the openstack executable does', async () => {
  const os = openstackClient(rc);
  try {
    await assert.rejects(os.json(['token', 'issue']), (e: Error) => {
      assert.match(e.message, /^openstack token issue -f json: exit \d+/);
      return true;
    });
  } finally {
    os.close();
  }
});
