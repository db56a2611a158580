/**
 * tripleo-quickstart's own config files (test/fixtures/tripleo-quickstart, unchanged upstream
 * copies) through our parser: the same deploy as our config/containers_minimal.yml, the HA
 * topology, warnings per key not applied, file:line errors; and --print-config through bin/.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { AppError } from '../../src/errors.js';
import { loadConfig, parseConfigText, type QuickstartConfig } from '../../src/lab/config.js';
import { checkDeployFiles } from '../../src/lab/config-files.js';
import { HA_ENVIRONMENT } from '../../src/lab/upstream-config.js';
import { quickstartEnvironment } from '../../src/quickstart/plan.js';
import { packageRoot, templatesPath } from '../../src/util/paths.js';
import { tmpTree } from '../support/tmp.js';

const FIX = join(packageRoot(), 'test', 'fixtures', 'tripleo-quickstart');
const upstream = (p: string): Promise<QuickstartConfig> => loadConfig(join(FIX, p));
const BIN = join(packageRoot(), 'bin', 'overcloud');

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseConfigText(text, 'up.yml', '/'),
    (e: unknown) => {
      assert.ok(e instanceof AppError && e.code === 'QUICKSTART_CONFIG_INVALID', String(e));
      assert.match(e.message, pattern);
      return true;
    },
  );
}

/** What the quickstart hands the deploy: the -e files in order and its own environment's content. */
function deployInputs(c: QuickstartConfig) {
  return {
    environments: c.deploy.environments,
    rolesFile: c.deploy.rolesFile,
    templates: c.deploy.templates,
    environment: quickstartEnvironment(c).replace(/^#.*\n/, ''),
    nodes: c.nodes,
    images: c.images,
    lab: c.lab,
    healthTimeoutS: c.deploy.healthTimeoutS,
    driver: c.deploy.driver,
    validate: c.validate,
  };
}

describe('tripleo-quickstart config files', () => {
  it('upstream containers_minimal.yml, as shipped, runs the same deploy as config/containers_minimal.yml', async () => {
    const ours = await loadConfig(join(packageRoot(), 'config', 'containers_minimal.yml'));
    const theirs = await upstream('general_config/containers_minimal.yml');
    assert.equal(ours.format, 'overcloud');
    assert.equal(theirs.format, 'tripleo-quickstart');
    // extra_args' --ntp-server is TripleO's NtpServer parameter: the one addition.
    assert.deepEqual(theirs.deploy.parameterDefaults, { NtpServer: 'pool.ntp.org' });
    const withoutNtp = { ...theirs, deploy: { ...theirs.deploy, parameterDefaults: {} } };
    assert.deepEqual(deployInputs(withoutNtp), deployInputs(ours));
    // ... and no shipped template reads it, so every node's containers are the same.
    const readers: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (/\.ya?ml$/.test(e.name) && /\bNtpServer\b/.test(await readFile(p, 'utf8'))) readers.push(p);
      }
    };
    await walk(templatesPath());
    assert.deepEqual(readers, []);
    await checkDeployFiles(theirs);
  });

  it('each key not applied is named once, with file, line and reason; keys that are off say nothing', async () => {
    const c = await upstream('general_config/containers_minimal.yml');
    const w = c.warnings ?? [];
    const keyOf = (line: string): string => /^\S+?:\d+: ([a-z_]+)/.exec(line)?.[1] ?? line;
    assert.deepEqual(w.map(keyOf), [
      'virtualbmc_port',
      'network_isolation',
      'network_isolation_type',
      'test_ping',
      'tempest_workers',
      'artcl_gen_docs',
      'artcl_create_docs_payload',
    ]);
    for (const line of w)
      assert.match(line, /containers_minimal\.yml:\d+: .*: accepted, not applied here: \S/);
    assert.match(w[0] as string, /containers_minimal\.yml:5: virtualbmc_port/);
    assert.match(w[3] as string, /:34: test_ping: .*no ping test/);
    // enable_pacemaker, ssl_overcloud, run_tempest, tempest_config ... are false: as the lab does.
    assert.ok(
      !w.some((l) => /ssl_overcloud|enable_pacemaker|run_tempest|tempest_config|overcloud_ipv6/.test(l)),
    );
  });

  it('enable_pacemaker with three control nodes selects the HA topology (ha.yml, pacemaker.yml + nodes/3ctlr_1comp.yml)', async () => {
    const ha = await upstream('general_config/ha.yml');
    assert.deepEqual(ha.nodes, [
      { role: 'Controller', count: 3 },
      { role: 'Compute', count: 1 },
    ]);
    assert.deepEqual(ha.deploy.environments, [
      'environments/docker.yaml',
      'environments/docker-ha.yaml',
      'environments/containers-minimal.yaml',
    ]);
    // Pike's way (quickstart.sh maps a deprecated ha.yml onto these two): --config pacemaker.yml --nodes 3ctlr_1comp.yml.
    const merged = await loadConfig(
      join(FIX, 'general_config/pacemaker.yml'),
      '/',
      join(FIX, 'nodes/3ctlr_1comp.yml'),
    );
    assert.deepEqual(merged.deploy.environments, ha.deploy.environments);
    assert.deepEqual(merged.nodes, ha.nodes);
    assert.ok(merged.warnings?.some((w) => /nodes\/3ctlr_1comp\.yml:25: virtualbmc_port/.test(w)));
    assert.ok(merged.warnings?.some((w) => /general_config\/pacemaker\.yml:13: network_isolation:/.test(w)));
    const nodes = await readFile(join(FIX, 'nodes/3ctlr_1comp.yml'), 'utf8');
    // topology's --control-scale 3 / --compute-scale 1 agree with the nodes.
    const noHa = parseConfigText(nodes, 'n.yml', '/');
    assert.ok(!noHa.deploy.environments.includes('environments/docker-ha.yaml'));
  });

  it("--nodes: the config's keys win over the nodes file's; it goes with a tripleo-quickstart config only", async () => {
    // quickstart.sh passes `-e @nodes -e @config`: containers_minimal.yml's own nodes win, and the
    // nodes file's `topology` (which the config does not set) still applies, as it would upstream.
    const c = await loadConfig(
      join(FIX, 'general_config/containers_minimal.yml'),
      '/',
      join(FIX, 'nodes/1ctlr.yml'),
    );
    assert.deepEqual(c.nodes, [
      { role: 'Controller', count: 1 },
      { role: 'Compute', count: 0 },
    ]);
    await assert.rejects(
      loadConfig(join(FIX, 'general_config/containers_minimal.yml'), '/', join(FIX, 'nodes/3ctlr_1comp.yml')),
      /nodes\/3ctlr_1comp\.yml:40: asks for 3 Controller node\(s\), overcloud_nodes lists 1/,
    );
    await assert.rejects(
      loadConfig(
        join(packageRoot(), 'config', 'containers_minimal.yml'),
        '/',
        join(FIX, 'nodes/3ctlr_1comp.yml'),
      ),
      /containers_minimal\.yml: --nodes .*3ctlr_1comp\.yml goes with a tripleo-quickstart config; this one is in our format/,
    );
    await assert.rejects(
      loadConfig(
        join(FIX, 'general_config/minimal.yml'),
        '/',
        join(packageRoot(), 'config', 'containers_minimal.yml'),
      ),
      /config\/containers_minimal\.yml: not a tripleo-quickstart nodes file/,
    );
  });

  it('a missing HA environment is a clear error before anything runs, not a crash', async () => {
    const ha = await upstream('general_config/ha.yml');
    const t = await tmpTree({
      'environments/docker.yaml': '{}\n',
      'environments/containers-minimal.yaml': '{}\n',
    });
    try {
      await assert.rejects(
        checkDeployFiles({ ...ha, deploy: { ...ha.deploy, templates: t.path('.') } }),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === 'QUICKSTART_CONFIG_INVALID' &&
          /ha\.yml: HA topology not available in this build: .*docker-ha\.yaml does not exist/.test(
            e.message,
          ),
      );
    } finally {
      await t.cleanup();
    }
  });

  it('every shipped fixture parses (general configs and node files)', async () => {
    for (const dir of ['general_config', 'nodes']) {
      for (const f of await readdir(join(FIX, dir))) {
        const c = await upstream(`${dir}/${f}`);
        assert.equal(c.format, 'tripleo-quickstart', f);
        assert.ok(c.nodes.length > 0, f);
      }
    }
    const ceph = await upstream('nodes/1ctlr_1comp_1ceph.yml');
    assert.deepEqual(ceph.nodes, [
      { role: 'Controller', count: 1 },
      { role: 'Compute', count: 1 },
      { role: 'CephStorage', count: 1 },
    ]);
    assert.deepEqual(ceph.deploy.environments.slice(-1), ['environments/storage-environment.yaml']);
    const one = await upstream('nodes/1ctlr.yml');
    assert.deepEqual(one.nodes, [{ role: 'Controller', count: 1 }]);
  });

  it('deploy arguments: -e files, --ntp-server, scales; unknown arguments and Jinja are refused with the line', () => {
    const c = parseConfigText(
      [
        'containerized_overcloud: true',
        'overcloud_nodes:',
        '  - {name: control_0, flavor: control}',
        '  - {name: compute_0, flavor: compute}',
        '  - {name: compute_1, flavor: compute}',
        'extra_args: >-',
        '  --ntp-server 10.0.0.1',
        '  -e /usr/share/openstack-tripleo-heat-templates/environments/x.yaml',
        '  -e /home/stack/mine.yaml --compute-scale 1 --control-flavor oooq_control',
        '',
      ].join('\n'),
      'up.yml',
      '/',
    );
    assert.deepEqual(c.deploy.parameterDefaults, { NtpServer: '10.0.0.1' });
    assert.deepEqual(c.deploy.environments.slice(2), ['environments/x.yaml', '/home/stack/mine.yaml']);
    assert.deepEqual(c.nodes, [
      { role: 'Controller', count: 1 },
      { role: 'Compute', count: 1 },
    ]);
    assert.ok(
      c.warnings?.some((w) =>
        /^up\.yml:6: extra_args --control-flavor oooq_control: accepted, not applied here/.test(w),
      ),
    );
    const base = 'containerized_overcloud: true\novercloud_nodes:\n  - {name: c0, flavor: control}\n';
    rejects(
      `${base}extra_args: --neutron-flat-networks x\n`,
      /^up\.yml:4: extra_args: --neutron-flat-networks: not a deploy argument/,
    );
    rejects(
      `${base}extra_args: --control-scale 3\n`,
      /^up\.yml:4: asks for 3 Controller node\(s\), overcloud_nodes lists 1/,
    );
    rejects(`${base}topology: "-e {{ foo }}/x.yaml"\n`, /^up\.yml:4: topology: .*a Jinja expression/);
    rejects(`${base}extra_args: --ntp-server\n`, /^up\.yml:4: extra_args: --ntp-server needs a value/);
  });

  it('unknown keys and bad values give file:line errors', () => {
    const base = 'containerized_overcloud: true\novercloud_nodes:\n  - {name: c0, flavor: control}\n';
    rejects(
      `${base}test_pingg: true\n`,
      /^up\.yml:4: test_pingg: not a tripleo-quickstart key this build knows/,
    );
    rejects(
      `${base}enable_pacemaker: yes please\n`,
      /^up\.yml:4: enable_pacemaker: expected a boolean, found a string/,
    );
    rejects(`${base}tempest_workers: many\n`, /^up\.yml:4: tempest_workers: expected a number/);
    rejects(`${base}control_memory: lots\n`, /^up\.yml:4: control_memory: expected a number/);
    rejects(
      'containerized_overcloud: false\novercloud_nodes:\n  - {name: c0, flavor: control}\n',
      /^up\.yml:1: containerized_overcloud: only a containerized/,
    );
    rejects(
      'test_ping: true\novercloud_nodes:\n  - name: c0\n    flavor: kontrol\n',
      /^up\.yml:4: overcloud_nodes\.0\.flavor: "kontrol": expected one of control, compute, ceph, blockstorage, objectstorage/,
    );
    rejects(
      'test_ping: true\novercloud_nodes:\n  - name: c0\n    flavor: control\n    memory: 4096\n',
      /^up\.yml:5: overcloud_nodes\.0\.memory: not a node key/,
    );
    rejects(
      'test_ping: true\novercloud_nodes:\n  - {name: c0, flavor: control}\n  - {name: c0, flavor: compute}\n',
      /^up\.yml:4: overcloud_nodes\.1\.name: c0 is listed twice/,
    );
    // One format per file: a tripleo-quickstart key in a file of ours is named as such.
    assert.throws(
      () =>
        parseConfigText(
          'containerized_overcloud: true\novercloud_nodes:\n  - {role: Controller, count: 1}\nvalidate: true\ntest_ping: true\n',
          'q.yml',
          '/',
        ),
      (e: unknown) =>
        e instanceof AppError &&
        /^q\.yml:5: \(top level\): unknown key "test_ping"/.test(e.message) &&
        /tripleo-quickstart key/.test(e.hint ?? ''),
    );
  });

  it('--print-config prints our format, which reads back to the same configuration', async () => {
    const file = join(FIX, 'general_config/containers_minimal.yml');
    const { stdout } = await promisify(execFile)(BIN, ['quickstart', '--config', file, '--print-config']);
    assert.match(
      stdout,
      /^# Effective configuration of .*containers_minimal\.yml \(tripleo-quickstart files\)/,
    );
    assert.match(stdout, /^# warning: .*:34: test_ping: accepted, not applied here/m);
    const back = parseConfigText(stdout, 'printed.yml', '/');
    const orig = await loadConfig(file);
    assert.equal(back.format, 'overcloud');
    assert.deepEqual(
      { ...back, path: '', format: '', warnings: [] },
      { ...orig, path: '', format: '', warnings: [] },
    );
  });

  it('quickstart with a missing HA environment exits 2 before any stage, naming it', async () => {
    const t = await tmpTree({
      'tht/environments/docker.yaml': '{}\n',
      'q.yml': '',
    });
    try {
      const q = [
        'containerized_overcloud: true',
        'overcloud_nodes: [{role: Controller, count: 3}]',
        'lab: {name: ocqha, subnet: 10.231.99.0/24, dir: /var/tmp/overcloud-quickstart-ha-test}',
        `deploy: {templates: ${t.path('tht')}, environments: [environments/docker.yaml, environments/docker-ha.yaml]}`,
        '',
      ].join('\n');
      await writeFile(t.path('q.yml'), q);
      const r = await promisify(execFile)(BIN, ['quickstart', '--config', t.path('q.yml')]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /q\.yml: HA topology not available in this build: .*docker-ha\.yaml does not exist/,
      );
    } finally {
      await t.cleanup();
    }
  });

  it('quickstart prints each warning of an upstream file on stderr', async (t) => {
    // Only while the build lacks the HA environment: the run then stops at that check, before any stage.
    if (existsSync(templatesPath(HA_ENVIRONMENT))) return t.skip('this build has the HA environment');
    const file = join(FIX, 'general_config/ha.yml');
    const r = await promisify(execFile)(BIN, ['quickstart', '--config', file]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^quickstart: warning: .*ha\.yml:47: network_isolation: accepted, not applied here: /m,
    );
    assert.match(r.stderr, /overcloud: error: .*ha\.yml: HA topology not available in this build/);
  });
});
