/**
 * @module test/deploy/bench-run
 * bench/deploy's body (not a test): in the netns lab, time the first deploy of the e2e topology, a
 * no-op re-deploy (median of 3), the same no-op through our Ansible driver (`--config-download`,
 * median of 3), and the same no-op done the kolla-ansible/tripleo-ansible way: one
 * `containers.podman.podman_container` task per container, through Ansible over SSH to the same nodes
 * (its second run is timed, so its own idempotency quirks are converged first).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDeployInput } from '../../src/deploy/load.js';
import { planDeploy } from '../../src/deploy/plan.js';
import type { ContainerSpec } from '../../src/deploy/spec.js';
import { run } from '../support/exec.js';
import { overcloud } from './cli.js';
import { type Lab, sshOptions, twoNodeLab } from './lab.js';
import { standInPath } from './stand-in.js';

const IMAGES = [
  'tripleo/memcached:1',
  'tripleo/keystone:1',
  'tripleo/glance-api:1',
  'tripleo/nova-libvirt:1',
  'tripleo/nova-compute:1',
];

function envText(reg: string): string {
  return `parameter_defaults:
  ControllerServices: [OS::TripleO::Services::Memcached, OS::TripleO::Services::Keystone, OS::TripleO::Services::GlanceApi]
  ComputeServices: [OS::TripleO::Services::NovaLibvirt, OS::TripleO::Services::NovaCompute]
  DockerInsecureRegistryAddress: [${reg}]
  DockerMemcachedImage: ${reg}/tripleo/memcached:1
  DockerKeystoneImage: ${reg}/tripleo/keystone:1
  DockerGlanceApiImage: ${reg}/tripleo/glance-api:1
  DockerNovaLibvirtImage: ${reg}/tripleo/nova-libvirt:1
  DockerNovaComputeImage: ${reg}/tripleo/nova-compute:1
`;
}

/** podmanContainerArgs maps a paunch entry to podman_container options, as tripleo_container_manage did. */
function podmanContainerArgs(
  name: string,
  spec: ContainerSpec,
  labels: Record<string, string>,
): Record<string, unknown> {
  const env = Object.fromEntries(
    (spec.environment ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  return {
    name,
    image: spec.image,
    state: spec.detach ? 'started' : 'present',
    detach: spec.detach,
    labels,
    ...(spec.net ? { network: [spec.net] } : {}),
    ...(spec.ipc ? { ipc: spec.ipc } : {}),
    ...(spec.pid ? { pid: spec.pid } : {}),
    ...(spec.privileged ? { privileged: true } : {}),
    ...(spec.user ? { user: spec.user } : {}),
    ...(spec.restart ? { restart_policy: spec.restart } : {}),
    ...(spec.volumes ? { volume: spec.volumes } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(spec.command ? { command: spec.command } : {}),
    ...(spec.healthcheck ? { healthcheck: spec.healthcheck.test, healthcheck_interval: 'disable' } : {}),
  };
}

async function ansibleFiles(
  lab: Lab,
  envFile: string,
  stateDir: string,
): Promise<{ inventory: string; playbook: string; containers: number }> {
  const loaded = await loadDeployInput({
    templatesDir: standInPath(),
    environmentFiles: [standInPath('environments', 'docker.yaml'), envFile],
    inventory: lab.inventoryFile,
    passwordsFile: join(stateDir, 'passwords.yaml'),
    writePasswords: false,
  });
  const plan = planDeploy(loaded.input);
  const hosts: Record<string, unknown> = {};
  let containers = 0;
  for (const n of plan.nodes) {
    const list = [...n.steps.values()]
      .flat()
      .filter((c) => c.spec.action === 'run')
      .map((c) =>
        podmanContainerArgs(c.name, c.spec, {
          config_id: c.configId,
          container_name: c.name,
          managed_by: n.managedBy,
          config_data: c.configData,
        }),
      );
    containers += list.length;
    hosts[n.node.name] = { ansible_host: n.node.address, containers: list };
  }
  const inventory = join(lab.dir, 'ansible-inventory.json');
  await writeFile(
    inventory,
    JSON.stringify({
      all: {
        hosts,
        vars: {
          ansible_user: 'root',
          ansible_python_interpreter: '/usr/bin/python3',
          ansible_ssh_private_key_file: join(lab.dir, 'client_key'),
          ansible_ssh_common_args: sshOptions(lab.dir)
            .filter((a) => a !== '-i' && !a.endsWith('client_key'))
            .join(' '),
        },
      },
    }),
  );
  const playbook = join(lab.dir, 'noop.yml');
  await writeFile(
    playbook,
    `- hosts: all
  gather_facts: false
  tasks:
    - name: one podman_container per container
      containers.podman.podman_container: "{{ item }}"
      loop: "{{ containers }}"
      loop_control: {label: "{{ item.name }}"}
`,
  );
  return { inventory, playbook, containers };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const lab = await twoNodeLab(IMAGES);
  try {
    const envFile = join(lab.dir, 'env.yaml');
    const stateDir = join(lab.dir, 'state');
    await writeFile(envFile, envText(lab.registryHost));
    const args = [
      'deploy',
      '-e',
      standInPath('environments', 'docker.yaml'),
      '-e',
      envFile,
      '--inventory',
      lab.inventoryFile,
      '--state-dir',
      stateDir,
    ];
    const first = await overcloud(lab, args);
    if (first.code !== 0) throw new Error(`first deploy failed:\n${first.stdout}\n${first.stderr}`);
    console.log(`first deploy: ${seconds(first.ms)} s`);
    const noops: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await overcloud(lab, args);
      if (r.code !== 0 || !/no changes/.test(r.stdout))
        throw new Error(`no-op deploy changed something:\n${r.stdout}\n${r.stderr}`);
      noops.push(r.ms);
      console.log(`no-op deploy #${i + 1}: ${seconds(r.ms)} s`);
    }
    const noop = [...noops].sort((a, b) => a - b)[1] as number;

    // The same no-op through our Ansible driver (deploy --config-download): its first run only stores
    // the node plans (nothing to change), then the median of 3.
    const cdArgs = [...args, '--config-download'];
    const cdFirst = await overcloud(lab, cdArgs);
    if (cdFirst.code !== 0 || !/no changes/.test(cdFirst.stdout))
      throw new Error(`config-download deploy changed something:\n${cdFirst.stdout}\n${cdFirst.stderr}`);
    const cdNoops: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await overcloud(lab, cdArgs);
      if (r.code !== 0 || !/no changes/.test(r.stdout) || /changed=[1-9]/.test(r.stdout))
        throw new Error(`config-download no-op changed something:\n${r.stdout}\n${r.stderr}`);
      cdNoops.push(r.ms);
      console.log(`no-op deploy --config-download #${i + 1}: ${seconds(r.ms)} s`);
    }
    const cdNoop = [...cdNoops].sort((a, b) => a - b)[1] as number;

    const { inventory, playbook, containers } = await ansibleFiles(lab, envFile, stateDir);
    /** ansible runs the playbook; it returns the time and the recap's changed= counts per host. */
    const ansible = async (): Promise<{ ms: number; changed: string }> => {
      const t = Date.now();
      const r = await run(
        'nsenter',
        [
          `--net=/run/netns/${lab.undercloud.ns}`,
          'env',
          'ANSIBLE_HOST_KEY_CHECKING=False',
          'ANSIBLE_PIPELINING=True',
          'ANSIBLE_NOCOLOR=1',
          'ansible-playbook',
          '-i',
          inventory,
          playbook,
        ],
        600_000,
      );
      // Name what Ansible changed: its idempotency check disagrees with some options, and recreates.
      const items = [...r.stdout.matchAll(/^changed: \[([^\]]+)\] => \(item=([^)]+)\)/gm)].map(
        (m) => `${m[1]}/${m[2]}`,
      );
      const changed = `${[...r.stdout.matchAll(/changed=(\d+)/g)].map((m) => m[1]).join('+')}${items.length ? ` (${items.join(', ')})` : ''}`;
      return { ms: Date.now() - t, changed };
    };
    const converge = await ansible();
    console.log(
      `ansible podman_container, converging run: ${seconds(converge.ms)} s, changed=${converge.changed} (${containers} containers on ${lab.nodes.length} nodes)`,
    );
    const second = await ansible();
    const ansibleNoop = second.ms;
    console.log(`ansible podman_container, no-op run: ${seconds(ansibleNoop)} s, changed=${second.changed}`);
    console.log(`speed-up of the no-op: ${(ansibleNoop / noop).toFixed(1)}x (goal: no-op < 5 s and >= 5x)`);

    // A first deploy through --config-download on emptied nodes (containers and images gone), to set
    // beside the SSH engine's first deploy above.
    for (const n of lab.nodes) {
      await lab.inNode(n, ['podman', 'rm', '-a', '-f', '-t', '0']);
      await lab.inNode(n, ['podman', 'rmi', '-a', '-f']);
    }
    const cdDeploy = await overcloud(lab, cdArgs);
    if (cdDeploy.code !== 0 || !/deploy complete: did create 10/.test(cdDeploy.stdout))
      throw new Error(`config-download first deploy failed:\n${cdDeploy.stdout}\n${cdDeploy.stderr}`);
    console.log(`first deploy --config-download: ${seconds(cdDeploy.ms)} s`);
    console.log(
      `RESULT first_deploy_s=${seconds(first.ms)} noop_s=${seconds(noop)} ansible_noop_s=${seconds(ansibleNoop)} config_download_noop_s=${seconds(cdNoop)} config_download_first_deploy_s=${seconds(cdDeploy.ms)}`,
    );
  } finally {
    await lab.down();
  }
}

await main();
