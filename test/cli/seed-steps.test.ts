/**
 * The seed document's own steps, in its order and as it writes them: prepare the environment of
 * image parameters against the undercloud registry (which already lists it in
 * DockerInsecureRegistryAddress), append the same key with `echo >>`, then deploy with both files.
 * Heat reads environment files with PyYAML, where the repeated key takes its last value; deploy
 * must do the same and say so, instead of failing with "Map keys must be unique".
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { templatesPath } from '../../src/util/paths.js';
import { SEED_UNDERCLOUD, type SeedHost, startSeedHost } from '../support/seed-host.js';

let seed: SeedHost;
before(async () => {
  seed = await startSeedHost();
});
after(async () => seed?.stop());

// The seed's lines, verbatim (its templates folder is ours: THT).
const SEED_STEPS = `
openstack overcloud container image prepare \\
  --namespace tripleoupstream \\
  --tag latest \\
  --env-file ~/docker_registry.yaml

openstack overcloud container image prepare \\
  --namespace 192.168.24.1:8787/tripleoupstream \\
  --tag latest \\
  --env-file ~/docker_registry.yaml

echo "  DockerInsecureRegistryAddress: 192.168.24.1:8787" >> \\
  ~/docker_registry.yaml
`;

test('prepare, the echo, then deploy: the repeated key takes its last value, with a warning', async () => {
  const steps = await seed.sh(SEED_STEPS);
  assert.equal(steps.code, 0, steps.stderr);
  const envPath = seed.home.path('docker_registry.yaml');
  const text = await readFile(envPath, 'utf8');
  const lines = text.split('\n');
  const written = lines.indexOf('  DockerInsecureRegistryAddress:') + 1;
  const echoed = lines.lastIndexOf(`  DockerInsecureRegistryAddress: ${SEED_UNDERCLOUD}:8787`) + 1;
  assert.ok(written > 0, `prepare probed the plain-HTTP registry and listed it:\n${text}`);
  assert.equal(lines[written], `  - ${SEED_UNDERCLOUD}:8787`);
  assert.ok(echoed > written, 'the echo appended the key again at the end');

  // The deploy (its --templates: ours; written as config-download, not run: the test has no nodes).
  const deploy = await seed.sh(
    `THT=${templatesPath()}
openstack overcloud deploy --templates \\
  -e $THT/environments/docker.yaml \\
  -e ~/docker_registry.yaml \\
  --config-download-only --output-dir ~/config-download`,
  );
  assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
  assert.doesNotMatch(deploy.stderr, /Map keys must be unique/);
  assert.ok(
    deploy.stderr.includes(
      `overcloud: warning: ${envPath}:${echoed}: parameter_defaults.DockerInsecureRegistryAddress repeats the key of line ${written}; the value of line ${echoed} is used`,
    ),
    deploy.stderr,
  );
  // The echoed value is the one the deploy uses: the nodes trust the undercloud registry.
  const inventory = parse(await readFile(seed.home.path('config-download', 'inventory.yaml'), 'utf8'));
  assert.deepEqual(inventory.all.vars.overcloud_insecure_registries, [`${SEED_UNDERCLOUD}:8787`]);
});

test('prepare warns about the same repeat when it reads the file as a service environment', async () => {
  const r = await seed.sh(
    'overcloud container image prepare --namespace 192.168.24.1:8787/tripleoupstream -e ~/docker_registry.yaml -q',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /docker_registry\.yaml:\d+: parameter_defaults\.DockerInsecureRegistryAddress repeats the key of line \d+/,
  );
});
