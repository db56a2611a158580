/**
 * @module quickstart/host-facts
 * What the preflight script (remote-scripts.ts) says about a remote HOST, and whether the quickstart
 * can run there: logged in as root, Debian, Node.js 20+ with npm, flock(1), and a remote folder that
 * is either new or one the quickstart made. Each refusal says what to change.
 */
import { AppError } from '../errors.js';
import type { RemoteHost } from './remote-host.js';

export interface HostFacts {
  uid: string;
  user: string;
  debian?: string;
  os: string;
  node: string;
  npm: string;
  flock: string;
  /** Hash of the build the remote folder holds ('' if none). */
  shipped: string;
  /** The remote folder exists, is not empty and has no mark of ours. */
  foreign: boolean;
}

/** parseFacts reads the preflight's key=value lines; a missing `end=1` means the shell did not run it. */
export function parseFacts(
  r: { code: number | null; stdout: string; stderr: string },
  h: RemoteHost,
): HostFacts {
  const kv = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  if (kv.get('end') !== '1')
    throw new AppError(
      'HOST_COMMAND_FAILED',
      `${h.user}@${h.host} accepted the login but could not run a shell command (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
      { hint: `the account needs a POSIX login shell; log in as root (root@${h.host})` },
    );
  const debian = kv.get('debian');
  return {
    uid: kv.get('uid') ?? '',
    user: kv.get('user') ?? '',
    ...(debian ? { debian } : {}),
    os: kv.get('os') || 'an unknown system',
    node: kv.get('node') ?? '',
    npm: kv.get('npm') ?? '',
    flock: kv.get('flock') ?? '',
    shipped: kv.get('shipped') ?? '',
    foreign: kv.get('foreign') === '1',
  };
}

/** checkFacts refuses a host the quickstart cannot run on; it returns the facts otherwise. */
export function checkFacts(f: HostFacts, h: RemoteHost, dir: string): HostFacts {
  const where = h.host;
  if (f.uid !== '0')
    throw new AppError(
      'HOST_UNSUPPORTED',
      `logged in on ${where} as ${f.user || h.user} (uid ${f.uid}): the quickstart needs root there (namespaces, routes, podman)`,
      {
        hint: `use root@${where} (as TripleO Quickstart does with its VIRTHOST), with your key in root's authorized_keys`,
      },
    );
  if (!f.debian)
    throw new AppError(
      'HOST_UNSUPPORTED',
      `${where} runs ${f.os}, not Debian: the host set-up installs Debian 12 packages with apt`,
      {
        hint: 'use a Debian 12 host',
      },
    );
  const major = Number(/^v(\d+)\./.exec(f.node)?.[1] ?? 0);
  if (major < 20 || !f.npm)
    throw new AppError(
      'HOST_UNSUPPORTED',
      `${where} has ${f.node ? `Node.js ${f.node}` : 'no Node.js'}${f.npm ? '' : ' and no npm'}: the quickstart needs Node.js 20 or later with npm`,
      {
        hint: `install Node.js 20 on ${where} (e.g. the nodejs package of NodeSource's Debian repository), then run again`,
      },
    );
  if (!f.flock)
    throw new AppError('HOST_UNSUPPORTED', `${where} has no flock(1)`, {
      hint: 'install util-linux (apt-get install util-linux)',
    });
  if (f.foreign)
    throw new AppError(
      'HOST_UNSUPPORTED',
      `${dir} on ${where} exists, is not empty and was not made by the quickstart`,
      {
        hint: 'name an empty or new folder with --remote-dir (QUICKSTART_REMOTE_DIR), or move that one away',
      },
    );
  return f;
}
