/**
 * @module test/quickstart/sshd
 * A throwaway "remote host" for the remote quickstart tests: a real sshd on 127.0.0.1 and a random
 * port, with its own host key and a client key made for the test, root login by key only. It is this
 * machine, so it is Debian with Node 20; npm is set offline for its sessions (the packages come from
 * the local npm cache), so that nothing in the test leaves loopback. `stop` kills it and removes
 * the keys and folders.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/process/index.js';
import { freePort } from '../support/distribution.js';

export interface TestSshd {
  dir: string;
  port: number;
  /** ssh -o options a client needs: the test's key and known_hosts. */
  clientOptions: string[];
  /** A key sshd does not accept. */
  strangerKey: string;
  stop(): Promise<void>;
}

async function keygen(path: string): Promise<void> {
  const r = await runProcess([
    'ssh-keygen',
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'overcloud-test',
    '-f',
    path,
  ]);
  if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

/** startSshd starts sshd and waits until it accepts the test's key. */
export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'overcloud-sshd-'));
  const port = await freePort();
  await keygen(join(dir, 'host_key'));
  await keygen(join(dir, 'client_key'));
  await keygen(join(dir, 'stranger_key'));
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'SetEnv npm_config_offline=true',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation folder (Debian creates it at boot with systemd; here maybe not).
  await mkdir('/run/sshd', { recursive: true });
  const proc: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr?.on('data', (b: Buffer) => {
    log += b.toString('utf8');
  });
  const clientOptions = [
    `IdentityFile=${dir}/client_key`,
    'IdentitiesOnly=yes',
    `UserKnownHostsFile=${dir}/known_hosts`,
    'LogLevel=ERROR',
  ];
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await runProcess([
      'ssh',
      ...clientOptions.flatMap((o) => ['-o', o]),
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-p',
      String(port),
      'root@127.0.0.1',
      'true',
    ]);
    if (r.code === 0) break;
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`test sshd did not come up: ${r.stderr}\n${log}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return { dir, port, clientOptions, strangerKey: join(dir, 'stranger_key'), stop };
}
