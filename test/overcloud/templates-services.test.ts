/**
 * The services made real beyond containers_minimal (environments/containers-real.yaml), planned
 * without nodes: Redis with its password behind HAProxy's tcp-check, Heat's CloudFormation API with
 * its own catalogue entry, the L3 and metadata agents sharing their volume and the metadata secret
 * with Nova's metadata API, the noVNC proxy whose URL nova-compute hands out; validate selects their
 * checks. Then kernel requirements: iscsid and multipathd are left out on a node whose kernel lacks
 * what they need, and the probe's answers parse.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDeployInput } from '../../src/deploy/load.js';
import { type DeployPlan, type NodePlan, planDeploy } from '../../src/deploy/plan.js';
import {
  describeLeftOut,
  fallbacksOf,
  parseProbeOutput,
  probeScript,
  requirementProbes,
} from '../../src/deploy/requirements.js';
import { templatesPath } from '../../src/util/paths.js';
import { selectChecks } from '../../src/validate/checks.js';
import { servicesOf } from '../../src/validate/overcloudrc.js';
import { MINIMAL_IMAGES } from '../support/minimal-images.js';

const IMAGES = [
  ...MINIMAL_IMAGES,
  'Redis',
  'HeatApiCfn',
  'NeutronL3Agent',
  'NeutronMetadata',
  'NovaMetadata',
  'NovaVncProxy',
  'Iscsid',
  'Multipathd',
  'Openvswitch',
  'SwiftProxy',
  'SwiftAccount',
  'SwiftContainer',
  'SwiftObject',
  'Crond',
];

describe('real definitions: containers-real.yaml (containers_minimal and the services made real since)', () => {
  let dir: string;
  let plan: DeployPlan;
  let passwords: Record<string, string>;

  const load = async (extra = '') => {
    await writeFile(
      join(dir, 'env.yaml'),
      `parameter_defaults:\n${IMAGES.map((i) => `  Docker${i}Image: reg.lab:5000/overcloud/x-${i.toLowerCase()}:1`).join('\n')}\n${extra}`,
    );
    return loadDeployInput({
      templatesDir: templatesPath(),
      environmentFiles: [
        templatesPath('environments', 'docker.yaml'),
        templatesPath('environments', 'containers-real.yaml'),
        join(dir, 'env.yaml'),
      ],
      inventory: join(dir, 'nodes.yaml'),
      passwordsFile: join(dir, 'passwords.yaml'),
      writePasswords: true,
    });
  };
  const node = (p: DeployPlan, name: string): NodePlan =>
    p.nodes.find((n) => n.node.name === name) as NodePlan;
  const names = (n: NodePlan, bootstrap: boolean): string[] =>
    [...n.steps.values()]
      .flat()
      .filter((c) => c.bootstrap === bootstrap)
      .map((c) => c.name)
      .sort();
  const file = (n: NodePlan, volume: string, path: string): string =>
    n.volumes.find((v) => v.name === volume)?.files.find((f) => f.path === path)?.content ?? '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcloud-real-services-'));
    await writeFile(
      join(dir, 'nodes.yaml'),
      'nodes:\n  - {name: overcloud-controller-0, role: Controller, address: 192.0.2.10}\n  - {name: overcloud-novacompute-0, role: Compute, address: 192.0.2.11}\n',
    );
    const loaded = await load();
    passwords = loaded.input.passwords;
    plan = planDeploy(loaded.input);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('puts the new services on the controller, with no stand-in command anywhere', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    const all = names(ctl, false);
    for (const c of [
      'redis',
      'heat_api_cfn',
      'neutron_l3_agent',
      'neutron_metadata_agent',
      'nova_metadata',
      'nova_vnc_proxy',
    ])
      assert.ok(all.includes(c), c);
    assert.ok(names(ctl, true).includes('heat_cfn_ks_register'));
    for (const n of plan.nodes)
      for (const k of n.kolla) assert.doesNotMatch(k.content, /\/bin\/httpd|sleep 2147483647/, k.path);
    const redis = ctl.steps.get(1)?.find((c) => c.name === 'redis');
    assert.ok(redis?.spec.volumes?.includes('/var/log/containers/redis:/var/log/redis'));
  });

  it('Redis has its password, HAProxy checks it the way TripleO did', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    const conf = file(ctl, 'redis', '/etc/redis/redis.conf');
    assert.match(conf, new RegExp(`^requirepass ${passwords.RedisPassword}$`, 'm'));
    assert.match(conf, new RegExp(`^masterauth ${passwords.RedisPassword}$`, 'm'));
    assert.match(conf, /^bind 127\.0\.0\.1$/m);
    const front = file(ctl, 'haproxy', '/etc/haproxy/conf.d/redis.cfg');
    assert.match(front, /bind 192\.0\.2\.10:6379/);
    assert.ok(front.includes(`tcp-check send AUTH\\ ${passwords.RedisPassword}\\r\\n`));
    assert.match(front, /tcp-check expect string role:master/);
  });

  it('every new API has its HAProxy frontend with a health check; CFN registers cloudformation at /v1', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    for (const [f, port] of [
      ['heat_cfn', 8000],
      ['nova_metadata', 8775],
      ['nova_novncproxy', 6080],
    ] as const) {
      const text = file(ctl, 'haproxy', `/etc/haproxy/conf.d/${f}.cfg`);
      assert.match(text, new RegExp(`bind 192\\.0\\.2\\.10:${port}`), f);
      assert.match(text, new RegExp(`server local 127\\.0\\.0\\.1:${port} check`), f);
      assert.match(text, /option httpchk/, f);
    }
    const reg = ctl.steps.get(4)?.find((c) => c.name === 'heat_cfn_ks_register');
    assert.ok(reg?.spec.environment?.includes('KS_TYPE=cloudformation'));
    assert.ok(reg?.spec.environment?.includes('KS_URL=http://192.0.2.10:8000/v1'));
    const cfn = file(ctl, 'heat_api_cfn', '/etc/heat/heat.conf');
    assert.match(cfn, /\[heat_api_cfn\]\nbind_host = 127\.0\.0\.1\nbind_port = 8000/);
    assert.match(cfn, /\[ec2authtoken\]\nauth_uri = http:\/\/127\.0\.0\.1:5000\/v3/);
    assert.match(
      file(ctl, 'heat_engine', '/etc/heat/heat.conf'),
      /heat_waitcondition_server_url = http:\/\/192\.0\.2\.10:8000\/v1\/waitcondition/,
    );
  });

  it('L3 and metadata: router plugin, shared volume, one metadata secret on both sides', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    assert.match(file(ctl, 'neutron_api', '/etc/neutron/neutron.conf'), /^service_plugins = router$/m);
    assert.match(
      file(ctl, 'neutron_api', '/etc/neutron/plugins/ml2/ml2_conf.ini'),
      /^mechanism_drivers = openvswitch,linuxbridge$/m,
    );
    // No template placeholder is left unreplaced in any rendered file.
    for (const n of plan.nodes)
      for (const v of n.volumes)
        for (const f of v.files)
          assert.doesNotMatch(f.content, /= [A-Z][A-Z0-9]{3,}$/m, `${n.node.name} ${v.name} ${f.path}`);
    assert.match(file(ctl, 'neutron_l3', '/etc/neutron/l3_agent.ini'), /^interface_driver = linuxbridge$/m);
    const secret = passwords.NeutronMetadataProxySharedSecret as string;
    assert.match(secret, /^[A-Za-z0-9]{25}$/);
    const agent = file(ctl, 'neutron_metadata', '/etc/neutron/metadata_agent.ini');
    assert.ok(agent.includes(`metadata_proxy_shared_secret = ${secret}`));
    assert.match(agent, /nova_metadata_host = 192\.0\.2\.10\nnova_metadata_port = 8775/);
    const nova = file(ctl, 'nova_metadata', '/etc/nova/nova.conf');
    assert.ok(nova.includes(`metadata_proxy_shared_secret = ${secret}`));
    assert.match(nova, /^enabled_apis = metadata$/m);
    const step4 = ctl.steps.get(4) ?? [];
    for (const c of ['neutron_l3_agent', 'neutron_metadata_agent'])
      assert.ok(
        step4.find((x) => x.name === c)?.spec.volumes?.includes('neutron_agents:/var/lib/neutron'),
        c,
      );
  });

  it('nova-compute hands out the proxy public URL; the proxy reads tokens from the database', () => {
    const compute = file(node(plan, 'overcloud-novacompute-0'), 'nova_compute', '/etc/nova/nova.conf');
    assert.match(compute, /\[vnc\][^[]*enabled = true/);
    assert.match(compute, /novncproxy_base_url = http:\/\/192\.0\.2\.10:6080\/vnc_auto\.html/);
    assert.match(compute, /server_proxyclient_address = 192\.0\.2\.11/);
    const proxy = file(node(plan, 'overcloud-controller-0'), 'nova_vnc_proxy', '/etc/nova/nova.conf');
    assert.match(proxy, /novncproxy_host = 127\.0\.0\.1\nnovncproxy_port = 6080/);
    assert.match(proxy, /\[database\]\nconnection = mysql\+pymysql:\/\/nova:/);
  });

  it('validate selects the new checks for the deployed services', () => {
    const picked = selectChecks(undefined, servicesOf(plan)).map((c) => c.name);
    for (const c of ['redis', 'cloudformation', 'router', 'metadata', 'console', 'object-store', 'logrotate'])
      assert.ok(picked.includes(c), c);
    assert.deepEqual(
      selectChecks(undefined, { Keystone: ['a'], Redis: ['a'] }).map((c) => c.name),
      ['token', 'catalogue', 'redis'],
    );
  });

  it('logrotate-crond on both nodes: hourly cron entry, the containers logs rotated with copytruncate', () => {
    for (const n of plan.nodes) {
      const c = n.steps.get(4)?.find((x) => x.name === 'logrotate_crond');
      assert.equal(c?.spec.net, 'none', n.node.name);
      assert.ok(c?.spec.volumes?.includes('/var/log/containers:/var/log/containers'), n.node.name);
      const conf = file(n, 'crond', '/etc/logrotate-crond.conf');
      assert.match(conf, /^\/var\/log\/containers\/\*\/\*log \/var\/log\/containers\/\*\/\*\/\*log \{$/m);
      assert.match(conf, /^ {2}daily\n {2}rotate 14\n {2}maxsize 10M$/m);
      assert.match(conf, /copytruncate/);
      assert.match(
        file(n, 'crond', '/etc/cron.d/logrotate-crond'),
        /^0 \* \* \* \* root \/usr\/sbin\/logrotate /m,
      );
    }
  });

  it('Swift: rings built once at step 3 into the volume the proxy and the three servers mount', () => {
    const ctl = node(plan, 'overcloud-controller-0');
    const rb = ctl.steps.get(3)?.find((c) => c.name === 'swift_ringbuilder');
    assert.equal(rb?.bootstrap, true);
    const script = rb?.spec.command?.[2] ?? '';
    assert.match(script, /swift-ring-builder \$ring\.builder create 10 1 1;/);
    assert.match(script, /for ip in 192\.0\.2\.10; do/);
    const step4 = ctl.steps.get(4) ?? [];
    for (const c of ['swift_proxy', 'swift_account_server', 'swift_container_server', 'swift_object_server'])
      assert.ok(
        step4.find((x) => x.name === c)?.spec.volumes?.includes('swift_rings:/var/lib/swift/rings'),
        c,
      );
    const suffix = passwords.SwiftHashSuffix as string;
    for (const v of ['swift_proxy', 'swift_storage'])
      assert.match(
        file(ctl, v, '/etc/swift/swift.conf'),
        new RegExp(`swift_hash_path_suffix = ${suffix}`),
        v,
      );
    const front = file(ctl, 'haproxy', '/etc/haproxy/conf.d/swift_proxy_server.cfg');
    assert.match(front, /bind 192\.0\.2\.10:8080/);
    assert.match(front, /server local 127\.0\.0\.1:8088 check/);
    const reg = ctl.steps.get(4)?.find((c) => c.name === 'swift_ks_register');
    assert.ok(reg?.spec.environment?.includes('KS_URL=http://192.0.2.10:8080/v1/AUTH_%(tenant_id)s'));
  });

  it('the Open vSwitch agent: the Linux bridge agent runs in its place where the node has no OVS', async () => {
    const loaded = await load();
    const probes = requirementProbes(loaded.input);
    assert.deepEqual(
      (probes.get('overcloud-controller-0') ?? []).map((p) =>
        p.service.replace('OS::TripleO::Services::', ''),
      ),
      ['NeutronOvsAgent', 'NeutronOvsAgent', 'Iscsid'],
    );
    const left = {
      'overcloud-controller-0': {
        'OS::TripleO::Services::NeutronOvsAgent': 'this node has no kernel Open vSwitch datapath',
      },
      'overcloud-novacompute-0': {
        'OS::TripleO::Services::ComputeNeutronOvsAgent': 'this node has no kernel Open vSwitch datapath',
      },
    };
    const p = planDeploy({ ...loaded.input, leftOut: left });
    for (const n of p.nodes) {
      const all = names(n, false);
      assert.ok(all.includes('neutron_linuxbridge_agent'), n.node.name);
      assert.ok(!all.includes('neutron_ovs_agent'), n.node.name);
    }
    assert.ok(servicesOf(p).NeutronLinuxbridgeAgent?.length === 2);
    assert.match(
      describeLeftOut(left, fallbacksOf(loaded.input))[0] ?? '',
      /^\[kernel\] overcloud-controller-0: NeutronOvsAgent left out: this node has no kernel Open vSwitch datapath; NeutronLinuxbridgeAgent runs in its place$/,
    );
  });

  it('iscsid and multipathd: probed per node, left out with the reason where the kernel lacks them', async () => {
    const extra =
      '  ComputeServices: [OS::TripleO::Services::NovaCompute, OS::TripleO::Services::NeutronLinuxbridgeAgent, OS::TripleO::Services::Iscsid, OS::TripleO::Services::Multipathd]\n';
    const loaded = await load(extra);
    const probes = requirementProbes(loaded.input);
    assert.deepEqual([...probes.keys()], ['overcloud-controller-0', 'overcloud-novacompute-0']);
    const list = probes.get('overcloud-novacompute-0') ?? [];
    assert.deepEqual(
      list.map((p) => p.service.replace('OS::TripleO::Services::', '')),
      ['Iscsid', 'Multipathd', 'Multipathd'],
    );
    const script = probeScript(list);
    assert.match(
      script,
      /^if \( test -d \/sys\/module\/iscsi_tcp .*\) >\/dev\/null 2>&1; then echo '0 ok'; else echo '0 missing'; fi$/m,
    );
    // This machine's kernel: no iSCSI, no device-mapper.
    const missing = parseProbeOutput('overcloud-novacompute-0', list, '0 missing\n1 missing\n2 missing\n');
    assert.match(missing['OS::TripleO::Services::Iscsid'] ?? '', /^this node has no kernel iSCSI initiator/);
    assert.match(
      missing['OS::TripleO::Services::Multipathd'] ?? '',
      /kernel device-mapper .*, kernel device-mapper multipath/,
    );
    assert.throws(() => parseProbeOutput('n', list, '0 ok\n'), /gave no answer/);
    const left = { 'overcloud-novacompute-0': missing };
    const p = planDeploy({ ...loaded.input, leftOut: left });
    const cmp = node(p, 'overcloud-novacompute-0');
    assert.deepEqual(names(cmp, false), ['neutron_linuxbridge_agent', 'nova_compute']);
    assert.equal(cmp.services.includes('OS::TripleO::Services::Iscsid'), false);
    assert.deepEqual(Object.keys(cmp.leftOut).sort(), [
      'OS::TripleO::Services::Iscsid',
      'OS::TripleO::Services::Multipathd',
    ]);
    assert.match(
      describeLeftOut(left)[0] ?? '',
      /^\[kernel\] overcloud-novacompute-0: Iscsid left out: this node has no kernel iSCSI/,
    );
    // With the features present, both run on the node, privileged, with its /dev.
    const full = planDeploy({ ...loaded.input, leftOut: {} });
    const all = names(node(full, 'overcloud-novacompute-0'), false);
    assert.ok(all.includes('iscsid') && all.includes('multipathd'));
    assert.match(
      file(node(full, 'overcloud-novacompute-0'), 'iscsid', '/etc/iscsi/initiatorname.iscsi'),
      /^InitiatorName=iqn\.2004-10\.org\.debian:overcloud:overcloud-novacompute-0$/m,
    );
  });
});
