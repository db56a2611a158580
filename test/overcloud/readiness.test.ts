/**
 * On the lab, for real: the full containers_minimal topology with two computes (quickstart), then
 * a compute's Linux bridge agent frozen (SIGSTOP: its container runs, its healthcheck's connection
 * stays, but Neutron stops hearing from it, as when its first state reports time out). A deploy then
 * must not say it is complete: it waits, and fails with DEPLOY_NOT_READY naming the node, the agent
 * and its logs. A second deploy, during which the agent thaws, waits and then succeeds. The
 * look-around runs from the root namespace without flags.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';
import { scratchDir } from '../support/tmp.js';

const SCRATCH = scratchDir('readiness-lab');
const LAB = { name: 'ocqhc', subnet: '10.231.57.0/24', dir: '/var/tmp/overcloud-quickstart-hc' };
const CONFIG = join(SCRATCH, 'readiness.yml');
const ENV = { ...process.env, OVERCLOUD_STACKS_DIR: join(SCRATCH, 'stacks'), HOME: SCRATCH };
const NODE = 'overcloud-novacompute-1';
const AGENT = 'neutron_linuxbridge_agent';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(argv: string[], timeoutMs = 60 * 60_000): Promise<Run> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    execFile(
      file ?? '',
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: ENV },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const cli = (args: string[]): Promise<Run> =>
  exec([process.execPath, join(packageRoot(), 'dist', 'src', 'cli', 'run.js'), ...args]);
const inUndercloud = (argv: string[]): Promise<Run> =>
  exec(['nsenter', `--net=/run/netns/${LAB.name}-uc`, ...argv]);
const onNode = (node: string, command: string): Promise<Run> =>
  inUndercloud(['ssh', '-F', join(LAB.dir, 'ssh_config'), node, command]);

/** signalAgent sends a signal to the agent's own process inside its container on NODE. */
async function signalAgent(signal: 'STOP' | 'CONT'): Promise<void> {
  // Its process title starts with the agent's name (the privsep helpers' with python3).
  const script =
    'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline | grep -q "^neutron-linuxbridge-agent" && kill -' +
    signal +
    ' $(basename $p); done; true';
  const r = await onNode(NODE, `podman exec ${AGENT} sh -c '${script}'`);
  assert.equal(r.code, 0, r.stderr);
}

/** agentAlive asks Neutron (openstack client in the undercloud) whether NODE's agent is alive. */
async function agentAlive(): Promise<boolean> {
  const rc = join(LAB.dir, 'stack', 'state', 'overcloudrc');
  const r = await inUndercloud(['bash', '-c', `. ${rc} && openstack network agent list -f json`]);
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { Host: string; Binary: string; Alive: boolean }[];
  return rows.some((x) => x.Host === NODE && x.Binary === 'neutron-linuxbridge-agent' && x.Alive === true);
}

/** deployCommand is the quickstart's own deploy command line, from its log. */
async function deployCommand(): Promise<string[]> {
  const log = await readFile(join(LAB.dir, 'logs', 'deploy.log'), 'utf8');
  const line = log.split('\n').findLast((l) => l.startsWith('$ ')) ?? '';
  return line.slice(2).split(' ');
}

describe('deploy readiness on the lab (containers_minimal, two computes)', { timeout: 90 * 60_000 }, () => {
  before(async () => {
    const base = await readFile(join(packageRoot(), 'config', 'containers_minimal.yml'), 'utf8');
    await writeFile(
      CONFIG,
      base
        .replace(/subnet: \S+/, `subnet: ${LAB.subnet}`)
        .replace(/name: ocq$/m, `name: ${LAB.name}`)
        .replace(/dir: \S+/, `dir: ${LAB.dir}`)
        .replace('{role: Compute, count: 1}', '{role: Compute, count: 2}'),
    );
  });
  after(async () => {
    await signalAgent('CONT').catch(() => {});
    await cli(['quickstart', '--config', CONFIG, '--teardown']);
  });

  it('the quickstart deploys, waits for agents and cells, and validates', async () => {
    const r = await cli(['quickstart', '--config', CONFIG]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr.slice(-4000)}`);
    assert.match(r.stdout, /\[8\/8\] = validate .*checks passed/);
    const log = await readFile(join(LAB.dir, 'logs', 'deploy.log'), 'utf8');
    assert.match(
      log,
      /\[ready\] compute hosts up, mapped to a cell and listed: overcloud-novacompute-0, overcloud-novacompute-1/,
    );
    assert.match(log, /\[ready\] the deployed services are ready to serve/);
  });

  it('a frozen agent: the deploy does not say complete, it times out naming node and agent', async () => {
    await signalAgent('STOP');
    const deadline = Date.now() + 180_000;
    while (await agentAlive()) {
      assert.ok(Date.now() < deadline, 'Neutron never noticed the frozen agent');
      await new Promise((r) => setTimeout(r, 5000));
    }
    const r = await exec([...(await deployCommand()), '--ready-timeout', '30']);
    assert.equal(r.code, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /deploy complete|no changes:/);
    assert.match(
      r.stdout,
      /\[ready\] waiting: overcloud-novacompute-1: neutron-linuxbridge-agent not alive in Neutron/,
    );
    assert.match(
      r.stderr,
      /not ready after 30 s: overcloud-novacompute-1: neutron-linuxbridge-agent not alive in Neutron/,
    );
    assert.match(
      r.stderr,
      /hint: see overcloud container logs overcloud-novacompute-1 neutron_linuxbridge_agent/,
    );
    const record = JSON.parse(await readFile(join(LAB.dir, 'stack', 'state', 'last-deploy.json'), 'utf8'));
    assert.equal(record.ok, false);
  });

  it('the agent thaws while the deploy waits: the deploy then succeeds', async () => {
    const [file, ...args] = await deployCommand();
    const child = spawn(file ?? '', args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let thawed = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      // Thaw once the deploy, its steps done, says it waits for this agent.
      if (!thawed && /\[ready\] waiting: overcloud-novacompute-1: neutron-linuxbridge-agent/.test(stdout)) {
        thawed = true;
        void signalAgent('CONT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.ok(thawed, 'the deploy waited for the agent');
    assert.match(stdout, /\[ready\] the deployed services are ready to serve[^\n]*\nno changes: /);
  });

  it('the look-around, from the root namespace, without flags', async () => {
    const list = await cli(['container', 'list', '--format', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { node: string; name: string; status: string }[];
    assert.ok(rows.some((x) => x.node === NODE && x.name === AGENT && x.status === 'running'));
    const v = await cli(['validate', '--only', 'network-agents,compute-services']);
    assert.equal(v.code, 0, `${v.stdout}\n${v.stderr}`);
  });
});
