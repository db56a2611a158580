/**
 * @module lab/render
 * Pure renderers of the lab's files and command lines: podman's containers.conf and storage.conf per
 * node, the nodes' sshd_config, the client's ssh_config, the deploy's inventory.yaml (through the
 * `yaml` library), and the node's sshd command. One list of client options feeds ssh_config, the
 * ssh argv and the inventory, so they cannot drift apart.
 */
import { stringify } from 'yaml';
import { AppError } from '../errors.js';
import { shellQuote } from '../process/index.js';
import type { PlannedNode, Topology } from './topology.js';

/** What every client of the lab's sshd may skip: the host keys are made per lab and thrown away. */
export const CLIENT_OPTIONS: Readonly<Record<string, string>> = {
  StrictHostKeyChecking: 'no',
  UserKnownHostsFile: '/dev/null',
  LogLevel: 'ERROR',
};

/** One OpenSSH config line: a keyword and its arguments. */
export type OpenSshLine = readonly [keyword: string, ...args: string[]];

/**
 * openSshWord quotes one argument for ssh_config/sshd_config: double quotes around whitespace or
 * `#`. OpenSSH has no escape inside quotes, so a quote or a newline in a value is refused.
 */
export function openSshWord(word: string): string {
  if (/["\n\r]/.test(word) || word === '')
    throw new AppError('LAB_FAILED', `cannot write ${JSON.stringify(word)} into an OpenSSH config file`);
  return /[\s#]/.test(word) ? `"${word}"` : word;
}

/** renderOpenSshConfig writes lines, `indent` spaces in (a Host block's body). */
export function renderOpenSshConfig(lines: readonly OpenSshLine[], indent = 0): string {
  const pad = ' '.repeat(indent);
  return lines.map(([k, ...args]) => `${pad}${k} ${args.map(openSshWord).join(' ')}\n`).join('');
}

/**
 * containersConf: CONTAINERS_CONF replaces the system file, so keep its runtime, cgroup and ulimit
 * settings and add a private tmp dir (recorded in the node's database on first use) and network folder.
 */
export function containersConf(systemConf: string, nodeDir: string): string {
  const engine = /^\[engine\]$/m.test(systemConf) ? systemConf : `${systemConf}\n[engine]\n`;
  return `${engine.replace(/^\[engine\]$/m, `[engine]\ntmp_dir = ${JSON.stringify(`${nodeDir}/tmp`)}`)}\n[network]\nnetwork_config_dir = ${JSON.stringify(`${nodeDir}/networks`)}\n`;
}

/** storageConf: the node's own image and container storage. */
export function storageConf(nodeDir: string, runRoot: string): string {
  return `[storage]\ndriver = "overlay"\ngraphroot = ${JSON.stringify(`${nodeDir}/storage`)}\nrunroot = ${JSON.stringify(runRoot)}\n`;
}

export interface SshdSettings {
  address: string;
  hostKey: string;
  pidFile: string;
  authorizedKeys: string;
  /** Set for every session: the node's podman config. */
  env: Record<string, string>;
}

/** sshdConfig: key-only root login on the node's address, many sessions (Ansible forks), sftp. */
export function sshdConfig(s: SshdSettings): string {
  return renderOpenSshConfig([
    ['ListenAddress', `${s.address}:22`],
    ['HostKey', s.hostKey],
    ['PidFile', s.pidFile],
    ['AuthorizedKeysFile', s.authorizedKeys],
    ['PermitRootLogin', 'prohibit-password'],
    ['PasswordAuthentication', 'no'],
    ['KbdInteractiveAuthentication', 'no'],
    ['UsePAM', 'no'],
    ['StrictModes', 'no'],
    ['MaxSessions', '50'],
    ['MaxStartups', '50'],
    ['Subsystem', 'sftp', '/usr/lib/openssh/sftp-server'],
    ['SetEnv', ...Object.entries(s.env).map(([k, v]) => `${k}=${v}`)],
  ]);
}

/** sshConfig lets `ssh -F ssh_config overcloud-controller-0` reach a node by name. */
export function sshConfig(topo: Topology, clientKey: string): string {
  const hosts = topo.nodes
    .map((n) => `Host ${openSshWord(n.name)}\n${renderOpenSshConfig([['HostName', n.address]], 2)}`)
    .join('');
  const defaults = renderOpenSshConfig(
    [
      ['User', 'root'],
      ['IdentityFile', clientKey],
      ['IdentitiesOnly', 'yes'],
      ...Object.entries(CLIENT_OPTIONS).map(([k, v]) => [k, v] as const),
    ],
    2,
  );
  return `${hosts}Host *\n${defaults}`;
}

/** clientSshArgs are the options of the lab's own ssh probes (never prompt, fail fast). */
export function clientSshArgs(clientKey: string): string[] {
  return [
    '-i',
    clientKey,
    '-o',
    'IdentitiesOnly=yes',
    ...Object.entries(CLIENT_OPTIONS).flatMap(([k, v]) => ['-o', `${k}=${v}`]),
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
  ];
}

/** inventoryYaml is the deploy's inventory of the lab nodes, reached over SSH from the undercloud namespace. */
export function inventoryYaml(topo: Topology, clientKey: string): string {
  const doc = {
    nodes: topo.nodes.map((n) => ({ name: n.name, role: n.role, address: n.address, user: 'root' })),
    ssh: { identity_file: clientKey, options: { ...CLIENT_OPTIONS } },
  };
  // YAML 1.1 output quotes words such as `no` that older readers take for booleans.
  return `# Written by overcloud quickstart: the lab nodes, reached over SSH from the undercloud namespace.\n${stringify(doc, { version: '1.1' })}`;
}

/** fsDir names the node's private copy of a host folder (`/var/lib` → `fs/var-lib`). */
export function fsDir(hostDir: string): string {
  return `fs/${hostDir.replace(/^\//, '').replaceAll('/', '-')}`;
}

/**
 * sshdArgv starts a node's sshd in its namespace, with its hostname and its own folders. A private
 * mount namespace: the binds (and podman's overlay mounts) exist for this node only and vanish with
 * its last process. A UTS namespace gives the node its own hostname.
 */
export function sshdArgv(n: PlannedNode, nodeDir: string, nodeDirs: readonly string[]): string[] {
  const script = [
    shellQuote(['hostname', n.name]),
    ...nodeDirs.map((h) => shellQuote(['mount', '--bind', `${nodeDir}/${fsDir(h)}`, h])),
    shellQuote(['exec', '/usr/sbin/sshd', '-D', '-e', '-f', `${nodeDir}/sshd_config`]),
  ].join(' && ');
  return [
    'nsenter',
    `--net=/run/netns/${n.ns}`,
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    'sh',
    '-c',
    script,
  ];
}

/** inNodeArgv runs argv in a node's network and mount namespaces (entered through its sshd's pid), with its podman config. */
export function inNodeArgv(sshdPid: number, env: Record<string, string>, argv: string[]): string[] {
  return [
    'nsenter',
    `--target=${sshdPid}`,
    '--net',
    '--mount',
    'env',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...argv,
  ];
}
