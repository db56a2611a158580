/**
 * bench/overcloud's body (see that script). Not a test: prints timings and one RESULT line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runImageBuild } from '../../src/image-build/builder.js';
import { templatesPath } from '../../src/util/paths.js';
import { type CliResult, overcloud } from '../deploy/cli.js';
import { type Lab, type LabNode, labUp } from '../deploy/lab.js';

const NS = 'overcloud';
const IMAGES: Record<string, string> = {
  DockerMysqlImage: 'mariadb',
  DockerMemcachedImage: 'memcached',
  DockerHAProxyImage: 'haproxy',
  DockerRabbitmqImage: 'rabbitmq',
  DockerKeystoneImage: 'keystone',
  DockerGlanceApiImage: 'glance-api',
  DockerNovaPlacementImage: 'placement-api',
  DockerNovaApiImage: 'nova-api',
  DockerNovaConductorImage: 'nova-conductor',
  DockerNovaSchedulerImage: 'nova-scheduler',
  DockerNovaComputeImage: 'nova-compute',
  DockerNeutronApiImage: 'neutron-server',
  DockerNeutronDHCPImage: 'neutron-dhcp-agent',
  DockerHeatApiImage: 'heat-api',
  DockerHeatEngineImage: 'heat-engine',
  DockerHorizonImage: 'horizon',
  // environments/containers-real.yaml: the services made real beyond containers_minimal.
  DockerRedisImage: 'redis',
  DockerHeatApiCfnImage: 'heat-api-cfn',
  DockerNeutronL3AgentImage: 'neutron-l3-agent',
  DockerNeutronMetadataImage: 'neutron-metadata-agent',
  DockerNovaMetadataImage: 'nova-api',
  DockerNovaVncProxyImage: 'nova-novncproxy',
  DockerSwiftProxyImage: 'swift-proxy-server',
  DockerSwiftAccountImage: 'swift-account',
  DockerSwiftContainerImage: 'swift-container',
  DockerSwiftObjectImage: 'swift-object',
  DockerCrondImage: 'cron',
  // Listed by the topology; on this machine's kernel both are left out (docs/services.md).
  DockerOpenvswitchImage: 'neutron-openvswitch-agent',
  DockerIscsidImage: 'iscsid',
};
const TOPOLOGY = 'containers-real.yaml';

/** nodeMemoryMb sums the memory of a node's running containers (podman stats). */
async function nodeMemoryMb(lab: Lab, node: LabNode): Promise<number> {
  const { stdout } = await lab.inNode(node, [
    'podman',
    'stats',
    '--no-stream',
    '--no-reset',
    '--format',
    'json',
  ]);
  const rows = JSON.parse(stdout || '[]') as { mem_usage?: string }[];
  let total = 0;
  for (const r of rows) {
    const m = /^([\d.]+)([kMG]?B)/.exec(r.mem_usage ?? '');
    if (!m) continue;
    const scale: Record<string, number> = { B: 1 / 1e6, kB: 1 / 1e3, MB: 1, GB: 1e3 };
    total += Number(m[1]) * (scale[m[2] as string] ?? 0);
  }
  return total;
}

function ok(what: string, r: CliResult): CliResult {
  if (r.code !== 0) {
    console.log(r.stdout);
    console.error(r.stderr);
    throw new Error(`${what} failed (exit ${r.code})`);
  }
  return r;
}

async function main(): Promise<void> {
  const lab = await labUp({
    nodes: [
      { name: 'overcloud-controller-0', role: 'Controller' },
      { name: 'overcloud-novacompute-0', role: 'Compute' },
    ],
  });
  const peak = new Map<string, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const n of lab.nodes) {
        const mb = await nodeMemoryMb(lab, n).catch(() => 0);
        peak.set(n.name, Math.max(peak.get(n.name) ?? 0, mb));
      }
      await new Promise((r) => setTimeout(r, 3000));
    }
  })();
  try {
    let t = Date.now();
    const include = [...new Set(Object.values(IMAGES))].join('|');
    await runImageBuild({
      include: `^(${include})$`,
      namespace: NS,
      prefix: 'debian-binary-',
      tag: 'latest',
      parallel: 2,
      push: lab.pushUrl.replace(/^http:\/\//, ''),
      log: () => {},
    });
    console.log(
      `images built/cached and pushed to the lab registry: ${((Date.now() - t) / 1000).toFixed(1)} s (not counted)`,
    );
    const reg = lab.registryHost;
    const env = join(lab.dir, 'env.yaml');
    await writeFile(
      env,
      `parameter_defaults:\n  DockerInsecureRegistryAddress: [${reg}]\n${Object.entries(IMAGES)
        .map(([p, i]) => `  ${p}: ${reg}/${NS}/debian-binary-${i}:latest`)
        .join('\n')}\n`,
    );
    const state = join(lab.dir, 'state');
    const deploy = (): Promise<CliResult> =>
      overcloud(
        lab,
        [
          'deploy',
          '--templates',
          '-e',
          templatesPath('environments', 'docker.yaml'),
          '-e',
          templatesPath('environments', TOPOLOGY),
          '-e',
          env,
          '--inventory',
          lab.inventoryFile,
          '--state-dir',
          state,
          '--health-timeout',
          '300',
        ],
        1_800_000,
      );
    t = Date.now();
    const first = ok('first deploy', await deploy());
    const deployS = (Date.now() - t) / 1000;
    for (const l of first.stdout.split('\n').filter((x) => /applied in|\[pull\] \d+ image/.test(x)))
      console.log(l);
    console.log(`first deploy: ${deployS.toFixed(1)} s`);
    t = Date.now();
    const v = ok('validate', await overcloud(lab, ['validate', '--state-dir', state], 900_000));
    const validateS = (Date.now() - t) / 1000;
    console.log(v.stdout.trimEnd());
    t = Date.now();
    const noop = ok('no-op deploy', await deploy());
    const noopS = (Date.now() - t) / 1000;
    console.log(noop.stdout.split('\n').find((l) => l.startsWith('no changes')) ?? noop.stdout);
    // Convergence on the full set: one Nova scheduler parameter restarts only nova_scheduler; removing
    // Horizon from the controller removes its container, task and frontend, and restarts only HAProxy.
    const acted = (r: CliResult): string[] =>
      r.stdout
        .split('\n')
        .filter((l) => /: (create|replace|remove|exec) /.test(l))
        .map((l) => l.replace(/^\[step \d\] /, '').replace(/\s+/g, ' '));
    const base = await readFile(env, 'utf8');
    await writeFile(env, `${base}  NovaSchedulerDefaultFilters: [ComputeFilter, ImagePropertiesFilter]\n`);
    const changed = ok('parameter change', await deploy());
    console.log(`scheduler filters changed: ${acted(changed).join('; ')}`);
    const topology = parse(await readFile(templatesPath('environments', TOPOLOGY), 'utf8')) as {
      parameter_defaults: { ControllerServices: string[] };
    };
    const controller = topology.parameter_defaults.ControllerServices.filter(
      (s) => s !== 'OS::TripleO::Services::Horizon',
    );
    await writeFile(
      env,
      `${base}  NovaSchedulerDefaultFilters: [ComputeFilter, ImagePropertiesFilter]\n  ControllerServices: [${controller.join(', ')}]\n`,
    );
    const removed = ok('service removal', await deploy());
    console.log(`Horizon removed: ${acted(removed).join('; ')}`);
    const front = await lab
      .inNs(lab.undercloud.ns, [
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '--max-time',
        '5',
        `http://${lab.nodes[0]?.address}:80/`,
      ])
      .then(() => 'still answers')
      .catch(() => 'gone');
    console.log(`port 80 frontend after removal: ${front}`);
    sampling = false;
    await sampler;
    const ctl = Math.round(peak.get('overcloud-controller-0') ?? 0);
    const cmp = Math.round(peak.get('overcloud-novacompute-0') ?? 0);
    console.log(
      `RESULT deploy_s=${deployS.toFixed(1)} validate_s=${validateS.toFixed(1)} noop_s=${noopS.toFixed(1)} controller_mb=${ctl} compute_mb=${cmp}`,
    );
  } finally {
    sampling = false;
    await sampler;
    await lab.down();
  }
}

main().catch((e: unknown) => {
  console.error(`bench/overcloud: ${(e as Error).message}`);
  process.exitCode = 1;
});
