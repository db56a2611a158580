/**
 * @module quickstart/remote-host
 * The quickstart's HOST argument (TripleO Quickstart's positional VIRTHOST): which values mean this
 * machine, how another host is written (`[user@]host[:port]`, `[v6addr]:port`), the ssh command
 * line that reaches it, and what an ssh failure means for the user. Pure except `sshFailure`'s input.
 */
import { hostname } from 'node:os';
import { AppError } from '../errors.js';

export interface RemoteHost {
  /** As the user wrote it (for messages). */
  spec: string;
  user: string;
  host: string;
  port?: number;
}

/**
 * isLocalHost: no HOST, or this machine's own name or loopback address written bare. `root@localhost`
 * or `127.0.0.1:2222` name an ssh login explicitly, so they go through ssh (that is also how the
 * remote path is tested on one machine).
 */
export function isLocalHost(spec: string | undefined, self = hostname()): boolean {
  return spec === undefined || spec === '' || ['localhost', '127.0.0.1', '::1', self].includes(spec);
}

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const USER = /^[a-z_][a-z0-9_-]*\$?$/i;
const V6 = /^[0-9A-Fa-f:.]+$/;

/** parseHost reads `[user@]host[:port]` (IPv6 as `[addr]:port` or bare); the user defaults to root. */
export function parseHost(spec: string): RemoteHost {
  const bad = (why: string): AppError =>
    new AppError('USAGE', `HOST ${JSON.stringify(spec)}: ${why}`, {
      hint: 'write HOST as host, user@host, host:port or [ipv6]:port (root@ is implied)',
    });
  let rest = spec;
  let user = 'root';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) throw bad(`"${user}" is not a user name`);
  }
  let host = rest;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const colons = (rest.match(/:/g) ?? []).length;
  if (bracketed) {
    host = bracketed[1] as string;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (colons === 1) {
    const [h, p] = rest.split(':') as [string, string];
    if (!/^\d+$/.test(p)) throw bad(`port "${p}" is not a number`);
    host = h;
    port = Number(p);
  }
  // An IPv6 address has colons; anything else must be a plain name or IPv4 address (a leading "-"
  // would make ssh read the host as an option: NAME forbids it).
  const ok = host.includes(':') ? V6.test(host) : NAME.test(host);
  if (!ok) throw bad(`"${host}" is not a host name or address`);
  if (port !== undefined && (port < 1 || port > 65535)) throw bad(`port ${port} is out of range`);
  return { spec, user, host, ...(port === undefined ? {} : { port }) };
}

/** checkSshOption accepts `Key=value` or `Key value` (what `ssh -o` takes). */
export function checkSshOption(opt: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]*(=|\s+)\S/.test(opt))
    throw new AppError('USAGE', `--ssh-option ${JSON.stringify(opt)}: expected Key=value, as for ssh -o`, {
      hint: 'e.g. --ssh-option IdentityFile=~/.ssh/virthost --ssh-option UserKnownHostsFile=/dev/null',
    });
  return opt;
}

export interface SshCall {
  /** `-o` options from the user: first on the line, so they win over the defaults (ssh keeps the first value). */
  options: string[];
  tty?: boolean;
}

/** sshArgv is the ssh command line that runs `command` (a shell string) on the host. */
export function sshArgv(h: RemoteHost, call: SshCall, command: string): string[] {
  return [
    'ssh',
    ...call.options.flatMap((o) => ['-o', o]),
    // Never prompt (a prompt would hang a scripted run); trust a host on first contact, like a
    // fresh VIRTHOST, but refuse one whose key changed.
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=accept-new',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=30',
    ...(h.port === undefined ? [] : ['-p', String(h.port)]),
    call.tty ? '-t' : '-T',
    `${h.user}@${h.host}`,
    command,
  ];
}

/** shq quotes a word for a POSIX shell. */
export function shq(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** sshFailure turns ssh's own failure (exit 255) into an error that says what to do. */
export function sshFailure(h: RemoteHost, stderr: string): AppError {
  const text = stderr.trim().split('\n').slice(-4).join(' | ');
  const login = `${h.user}@${h.host}${h.port === undefined ? '' : ` port ${h.port}`}`;
  if (/Permission denied|Too many authentication failures|no mutual signature/i.test(stderr))
    return new AppError('HOST_AUTH_REFUSED', `${login} refused the login: ${text}`, {
      hint: `put your public key into ${h.user}'s authorized_keys on ${h.host} (ssh-copy-id ${h.user}@${h.host}), or name a key with --ssh-option IdentityFile=PATH`,
    });
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr))
    return new AppError('HOST_KEY_MISMATCH', `the host key of ${h.host} is not the one known here: ${text}`, {
      hint: `if ${h.host} was reinstalled, forget its old key with ssh-keygen -R ${h.host} and run again`,
    });
  return new AppError(
    'HOST_UNREACHABLE',
    `cannot reach ${login} over ssh: ${text || 'ssh failed (exit 255)'}`,
    {
      hint: `check the name, that sshd listens on ${h.host}${h.port === undefined ? ':22' : `:${h.port}`} and that no firewall drops it (ssh ${h.user}@${h.host} true)`,
    },
  );
}
