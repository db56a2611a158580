/** Unit tests: quickstart config parsing (file:line errors), topology planning, address allocation, build selection. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '../../src/errors.js';
import type { Role } from '../../src/heat/roles.js';
import { loadConfig, parseConfigText, parseSubnet } from '../../src/lab/config.js';
import { inSubnet, planTopology } from '../../src/lab/topology.js';
import {
  imageShortName,
  includeRegex,
  quickstartEnvironment,
  selectBuild,
  verdict,
} from '../../src/quickstart/plan.js';
import { packageRoot } from '../../src/util/paths.js';

const ROLES: Role[] = [
  { name: 'Controller', HostnameFormatDefault: '%stackname%-controller-%index%' },
  { name: 'Compute', HostnameFormatDefault: '%stackname%-novacompute-%index%' },
  { name: 'BlockStorage' },
];

const MINIMAL = `containerized_overcloud: true
overcloud_nodes:
  - {role: Controller, count: 1}
  - {role: Compute, count: 1}
`;

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseConfigText(text, 'q.yml', '/'),
    (e: unknown) =>
      e instanceof AppError && e.code === 'QUICKSTART_CONFIG_INVALID' && pattern.test(e.message),
  );
}

describe('quickstart config', () => {
  it('defaults: lab subnet, name, folders, images, environments', () => {
    const c = parseConfigText(MINIMAL, 'q.yml', '/');
    assert.equal(c.lab.subnet, '10.231.24.0/24');
    assert.equal(c.lab.name, 'ocq');
    assert.equal(c.lab.dir, '/var/tmp/overcloud-quickstart');
    assert.deepEqual(c.lab.nodeDirs, ['/var/lib', '/var/log']);
    assert.deepEqual(c.images, {
      namespace: 'tripleoupstream',
      prefix: 'debian-binary-',
      tag: 'latest',
      parallel: 3,
    });
    assert.deepEqual(c.deploy.environments, ['environments/docker.yaml']);
    assert.equal(c.deploy.driver, 'ansible');
    assert.equal(c.validate, true);
  });

  it('deploy.driver: ansible or ssh, anything else names the line', () => {
    assert.equal(parseConfigText(`${MINIMAL}deploy:\n  driver: ssh\n`, 'q.yml', '/').deploy.driver, 'ssh');
    rejects(`${MINIMAL}deploy:\n  driver: salt\n`, /^q\.yml:6: deploy\.driver: /);
  });

  it('the shipped configs parse', async () => {
    for (const f of ['containers_minimal.yml', 'ci_minimal.yml']) {
      const c = await loadConfig(`${packageRoot()}/config/${f}`);
      assert.deepEqual(
        c.nodes.map((n) => n.role),
        ['Controller', 'Compute'],
      );
      assert.equal(c.deploy.driver, 'ansible', `${f} deploys through Ansible`);
    }
  });

  it('errors name the file and line of the offending value', () => {
    rejects(
      `${MINIMAL}lab:\n  subnet: 10.231.24.5/24\n`,
      /^q\.yml:6: lab\.subnet: host bits are set: did you mean 10\.231\.24\.0\/24\?/,
    );
    rejects(`${MINIMAL}lab:\n  subnet: 8.8.8.0/24\n`, /^q\.yml:6: .*must be private/);
    rejects(`${MINIMAL}lab:\n  name: Bad-Name\n`, /^q\.yml:6: lab\.name: /);
    rejects(`${MINIMAL}lab:\n  dir: relative/dir\n`, /^q\.yml:6: lab\.dir: must be an absolute path/);
    rejects(
      `${MINIMAL}lab:\n  dir: /var/lib/lab\n`,
      /^q\.yml:6: lab\.dir \/var\/lib\/lab is inside node folder \/var\/lib/,
    );
    rejects(`${MINIMAL}surprise: 1\n`, /^q\.yml:5: \(top level\): unknown key "surprise"/);
    rejects(`${MINIMAL}lab:\n  name: ocq\n  subnett: 10.0.0.0/24\n`, /^q\.yml:7: lab: unknown key "subnett"/);
    rejects(
      'containerized_overcloud: true\novercloud_nodes:\n  - {role: Controller, count: 1}\n  - {role: Compute, count: -1}\n',
      /^q\.yml:4: overcloud_nodes\.1\.count: /,
    );
    rejects(
      'containerized_overcloud: true\novercloud_nodes:\n  - {role: Controller, count: 1}\n  - {role: Controller, count: 2}\n',
      /^q\.yml:4: role Controller is listed twice/,
    );
    rejects(
      'containerized_overcloud: false\novercloud_nodes: []\n',
      /^q\.yml:1: containerized_overcloud: only a containerized/,
    );
    rejects(
      'containerized_overcloud: true\novercloud_nodes:\n  - {role: Controller, count: 0}\n',
      /no node at all/,
    );
  });

  it('malformed YAML is a YAML error with line and column', () => {
    assert.throws(
      () => parseConfigText('overcloud_nodes: [\n', 'q.yml', '/'),
      (e: unknown) =>
        e instanceof AppError && e.code === 'YAML_INVALID' && /^q\.yml:\d+:\d+: /.test(e.message),
    );
  });

  it('subnets: /16../28, private only', () => {
    assert.deepEqual(parseSubnet('192.168.24.0/24'), { base: 0xc0a81800, bits: 24 });
    assert.match(String(parseSubnet('10.0.0.0/8')), /between \/16 and \/28/);
    assert.match(String(parseSubnet('10.0.300.0/24')), /above 255/);
    assert.equal(inSubnet('10.231.24.10', '10.231.24.0/24'), true);
    assert.equal(inSubnet('10.231.25.10', '10.231.24.0/24'), false);
  });
});

describe('quickstart topology', () => {
  it('undercloud .1, nodes from .10 in config order, TripleO host names, short interface names', () => {
    const c = parseConfigText(
      `${MINIMAL.replace('{role: Compute, count: 1}', '{role: Compute, count: 2}')}  - {role: BlockStorage, count: 1}\n`,
      'q.yml',
      '/',
    );
    const t = planTopology(c, ROLES);
    assert.deepEqual(t.undercloud, {
      ns: 'ocq-uc',
      address: '10.231.24.1',
      hostname: 'undercloud',
      bridge: 'br0',
    });
    assert.deepEqual(
      t.nodes.map((n) => [n.name, n.role, n.ns, n.address, n.inner, n.outer]),
      [
        ['overcloud-controller-0', 'Controller', 'ocq-n0', '10.231.24.10', 'ocqn0a', 'ocqn0b'],
        ['overcloud-novacompute-0', 'Compute', 'ocq-n1', '10.231.24.11', 'ocqn1a', 'ocqn1b'],
        ['overcloud-novacompute-1', 'Compute', 'ocq-n2', '10.231.24.12', 'ocqn2a', 'ocqn2b'],
        ['overcloud-blockstorage-0', 'BlockStorage', 'ocq-n3', '10.231.24.13', 'ocqn3a', 'ocqn3b'],
      ],
    );
    assert.equal(t.undercloudRegistry, '10.231.24.1:8787');
    assert.equal(t.upstreamRegistry, '10.231.24.1:5000');
    // Linux interface names have at most 15 characters.
    for (const n of t.nodes) assert.ok(n.inner.length <= 15 && n.outer.length <= 15);
  });

  it('a small subnet refuses more nodes than it holds; unknown roles are named', () => {
    const c = parseConfigText(
      `${MINIMAL.replace('count: 1}\n  - {role: Compute', 'count: 5}\n  - {role: Compute')}lab:\n  subnet: 10.231.24.16/28\n`,
      'q.yml',
      '/',
    );
    assert.throws(() => planTopology(c, ROLES), /has room for 5 node\(s\)/);
    const d = parseConfigText(MINIMAL.replace('Compute', 'Storage'), 'q.yml', '/');
    assert.throws(() => planTopology(d, ROLES), /unknown role Storage/);
  });

  it('with a /28, addresses stay inside it', () => {
    const c = parseConfigText(`${MINIMAL}lab:\n  subnet: 172.20.0.32/28\n`, 'q.yml', '/');
    const t = planTopology(c, ROLES);
    assert.deepEqual(
      [t.undercloud.address, ...t.nodes.map((n) => n.address)],
      ['172.20.0.33', '172.20.0.42', '172.20.0.43'],
    );
    for (const a of [t.undercloud.address, ...t.nodes.map((n) => n.address)])
      assert.ok(inSubnet(a, c.lab.subnet));
  });
});

describe('quickstart plan', () => {
  it('maps the images file to recipes, naming images no recipe serves', () => {
    assert.equal(
      imageShortName('10.0.0.1:5000/tripleoupstream/debian-binary-nova-api:latest', 'debian-binary-'),
      'nova-api',
    );
    assert.equal(imageShortName('docker.io/x/centos-binary-nova-api:latest', 'debian-binary-'), undefined);
    const served = new Map([
      ['keystone', 'keystone'],
      ['nova-placement-api', 'placement-api'],
      ['mariadb', 'mariadb'],
    ]);
    const sel = selectBuild(
      [
        'r:5000/t/debian-binary-keystone:latest',
        'r:5000/t/debian-binary-nova-placement-api:latest',
        'r:5000/t/debian-binary-mariadb:latest',
        'r:5000/t/debian-binary-nova-consoleauth:latest',
      ],
      'debian-binary-',
      served,
    );
    assert.deepEqual(sel, {
      recipes: ['keystone', 'mariadb', 'placement-api'],
      missing: ['r:5000/t/debian-binary-nova-consoleauth:latest'],
    });
    assert.equal(includeRegex(sel.recipes), '^(keystone|mariadb|placement-api)$');
  });

  it('the topology environment sets a count per role and the config parameters', () => {
    const c = parseConfigText(
      `${MINIMAL}deploy:\n  parameter_defaults:\n    ComputeServices: []\n    ControllerCount: 3\n`,
      'q.yml',
      '/',
    );
    const env = quickstartEnvironment(c);
    assert.match(env, /^# Written by overcloud quickstart from q\.yml/);
    // The config's own parameters come last and win.
    assert.match(
      env,
      /parameter_defaults:\n {2}ControllerCount: 3\n {2}ComputeCount: 1\n {2}ComputeServices: \[\]\n$/,
    );
  });

  it('a run converged when no stage changed anything', () => {
    const s = (name: string, changed: boolean) => ({ name, seconds: 1, changed, detail: '' });
    assert.deepEqual(verdict([s('lab', false), s('deploy', false)]), { converged: true, changed: [] });
    assert.deepEqual(verdict([s('lab', false), s('deploy', true)]), {
      converged: false,
      changed: ['deploy'],
    });
  });
});
