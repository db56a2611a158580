/**
 * @module validate/openstack
 * The `openstack` client (Debian's python3-openstackclient), run with the overcloudrc's variables and
 * nothing else from the caller's OS_* environment, so a stale rc in the shell cannot redirect checks.
 */
import { spawn } from 'node:child_process';
import { AppError } from '../errors.js';

export interface OpenStackClient {
  /** run executes `openstack ARGS` and returns stdout; a non-zero exit throws with stderr. */
  run(args: string[], timeoutMs?: number): Promise<string>;
  /** json runs with `-f json` and parses the answer. */
  json<T>(args: string[], timeoutMs?: number): Promise<T>;
}

/**
 * A 503 from the load balancer in front of an API (see run below), as the client reports it: the
 * status itself, or a version discovery that got no answer ("Failed to contact the endpoint ... for
 * discovery", then "... exists but does not have any supported versions").
 */
const UNAVAILABLE =
  /\b503\b|Service Unavailable|Failed to contact the endpoint|does not have any supported versions/i;
const UNAVAILABLE_GRACE_MS = 60_000;

export function openstackClient(rc: Record<string, string>, binary = 'openstack'): OpenStackClient {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OS_')) env[k] = v;
  Object.assign(env, rc);
  const once = (args: string[], timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const p = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(
          new AppError('COMMAND_FAILED', `cannot run ${binary}: ${e.message}`, {
            hint: 'install python3-openstackclient and python3-heatclient (scripts/setup-host.sh does)',
          }),
        );
      });
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else {
          const why = signal ? `killed by ${signal} after ${timeoutMs / 1000} s` : `exit ${code}`;
          const tail = err.trim().split('\n').slice(-6).join('\n');
          reject(new AppError('COMMAND_FAILED', `openstack ${args.join(' ')}: ${why}\n${tail}`));
        }
      });
    });
  // Right after a deploy HAProxy may still count a healthy API's backend as down (it needs a few
  // good checks in a row) and answers 503: such a request never reached the service, so asking
  // again is safe. Anything else fails at once.
  const run = async (args: string[], timeoutMs = 120_000): Promise<string> => {
    const deadline = Date.now() + UNAVAILABLE_GRACE_MS;
    for (;;) {
      try {
        return await once(args, timeoutMs);
      } catch (e) {
        if (!(e instanceof AppError && UNAVAILABLE.test(e.message)) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  return {
    run,
    json: async <T>(args: string[], timeoutMs?: number): Promise<T> =>
      JSON.parse(await run([...args, '-f', 'json'], timeoutMs)) as T,
  };
}
