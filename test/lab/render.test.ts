import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { AppError } from '../../src/errors.js';
import { layoutTopology } from '../../src/lab/index.js';
import {
  clientSshArgs,
  containersConf,
  inventoryYaml,
  openSshWord,
  sshConfig,
  sshdArgv,
  sshdConfig,
  storageConf,
} from '../../src/lab/render.js';

const topo = layoutTopology(
  { name: 'ocq', subnet: '10.231.24.0/24' },
  [
    { name: 'overcloud-controller-0', role: 'Controller' },
    { name: 'overcloud-novacompute-0', role: 'Compute' },
  ],
  'test',
);

describe('lab layout', () => {
  it('puts the undercloud on .1 and the nodes from .10 on, names from the lab name', () => {
    assert.equal(topo.undercloud.address, '10.231.24.1');
    assert.deepEqual(
      topo.nodes.map((n) => [n.name, n.address, n.ns, n.inner, n.outer, n.dirName]),
      [
        ['overcloud-controller-0', '10.231.24.10', 'ocq-n0', 'ocqn0a', 'ocqn0b', 'n0'],
        ['overcloud-novacompute-0', '10.231.24.11', 'ocq-n1', 'ocqn1a', 'ocqn1b', 'n1'],
      ],
    );
    assert.equal(topo.upstreamRegistry, '10.231.24.1:5000');
  });
});

describe('lab file renderers', () => {
  it('inventory.yaml is YAML that reads back as the nodes and ssh settings, "no" kept a string', () => {
    const text = inventoryYaml(topo, '/lab/client key');
    assert.match(text, /^# Written by overcloud quickstart/);
    const doc = parse(text, { version: '1.1' });
    assert.deepEqual(doc.nodes[1], {
      name: 'overcloud-novacompute-0',
      role: 'Compute',
      address: '10.231.24.11',
      user: 'root',
    });
    assert.deepEqual(doc.ssh, {
      identity_file: '/lab/client key',
      options: { StrictHostKeyChecking: 'no', UserKnownHostsFile: '/dev/null', LogLevel: 'ERROR' },
    });
  });

  it('ssh_config quotes what needs it and refuses what OpenSSH cannot hold', () => {
    const text = sshConfig(topo, '/lab dir/client_key');
    assert.match(text, /^Host overcloud-controller-0\n {2}HostName 10\.231\.24\.10\n/);
    assert.match(text, /\nHost \*\n {2}User root\n {2}IdentityFile "\/lab dir\/client_key"\n/);
    assert.match(text, /\n {2}StrictHostKeyChecking no\n/);
    assert.equal(openSshWord('a#b'), '"a#b"');
    assert.throws(
      () => openSshWord('a"b'),
      (e: unknown) => e instanceof AppError && e.code === 'LAB_FAILED',
    );
    assert.throws(() => openSshWord('a\nb'), AppError);
  });

  it('the client options are the same in ssh_config, the ssh argv and the inventory', () => {
    const argv = clientSshArgs('/k');
    for (const o of [
      'StrictHostKeyChecking=no',
      'UserKnownHostsFile=/dev/null',
      'LogLevel=ERROR',
      'BatchMode=yes',
    ])
      assert.ok(argv.includes(o), o);
  });

  it('sshd_config: key-only root login on the node address, sftp, the podman env', () => {
    const text = sshdConfig({
      address: '10.231.24.10',
      hostKey: '/lab/host_key',
      pidFile: '/run/ocq/n0/sshd.pid',
      authorizedKeys: '/lab/authorized_keys',
      env: { CONTAINERS_CONF: '/lab/n0/containers.conf', CONTAINERS_STORAGE_CONF: '/lab/n0/storage.conf' },
    });
    for (const line of [
      'ListenAddress 10.231.24.10:22',
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      'SetEnv CONTAINERS_CONF=/lab/n0/containers.conf CONTAINERS_STORAGE_CONF=/lab/n0/storage.conf',
    ])
      assert.ok(text.split('\n').includes(line), line);
  });

  it('podman configs keep the system settings and point at the node folder', () => {
    const conf = containersConf('[engine]\nruntime = "runc"\n', '/lab/n0');
    assert.match(conf, /\[engine\]\ntmp_dir = "\/lab\/n0\/tmp"\nruntime = "runc"\n/);
    assert.match(conf, /\[network\]\nnetwork_config_dir = "\/lab\/n0\/networks"\n$/);
    assert.match(containersConf('', '/d'), /\[engine\]\ntmp_dir = "\/d\/tmp"/);
    assert.equal(
      storageConf('/lab/n0', '/run/ocq/n0'),
      '[storage]\ndriver = "overlay"\ngraphroot = "/lab/n0/storage"\nrunroot = "/run/ocq/n0"\n',
    );
  });

  it("the node's sshd runs in its namespaces with its hostname and its own folders bound", () => {
    const n = topo.nodes[0] as (typeof topo.nodes)[0];
    const argv = sshdArgv(n, '/lab/n0', ['/var/lib', '/var/log']);
    assert.deepEqual(argv.slice(0, 7), [
      'nsenter',
      '--net=/run/netns/ocq-n0',
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
    ]);
    assert.equal(
      argv.at(-1),
      'hostname overcloud-controller-0 && mount --bind /lab/n0/fs/var-lib /var/lib && mount --bind /lab/n0/fs/var-log /var/log && exec /usr/sbin/sshd -D -e -f /lab/n0/sshd_config',
    );
  });
});
