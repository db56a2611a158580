/**
 * @module validate/openstack
 * The `openstack` client (Debian's python3-openstackclient), run with the overcloudrc's variables and
 * nothing else from the caller's OS_* environment, so a stale rc in the shell cannot redirect checks.
 * Commands go to long-lived runners (./openstack-runner.ts) that import the client once; when no
 * runner can start, each command spawns `openstack`.
 */
import { AppError } from '../errors.js';
import { EXIT_CANNOT_START, runProcess } from '../process/index.js';
import { sleep } from '../util/time.js';
import { clientPython, Runner } from './openstack-runner.js';

/** Runner processes: validate runs three checks at once (see index.ts). */
const RUNNERS = 3;

export interface OpenStackClient {
  /** run executes `openstack ARGS` and returns stdout; a non-zero exit throws with stderr. */
  run(args: string[], timeoutMs?: number): Promise<string>;
  /** json runs with `-f json` and parses the answer. */
  json<T>(args: string[], timeoutMs?: number): Promise<T>;
  /** close ends the runner processes. */
  close(): void;
}

/**
 * runnerPool lends up to `size` runners (./openstack-runner.ts), one command at a time each. If a
 * runner cannot start (no python3-openstackclient module), the pool is marked broken and every
 * command spawns `openstack` itself, as before.
 */
function runnerPool(env: NodeJS.ProcessEnv, size: number, python: string | undefined) {
  const idle: Runner[] = [];
  const waiters: ((r: Runner | undefined) => void)[] = [];
  let count = 0;
  let broken = false;
  const acquire = async (): Promise<Runner | undefined> => {
    if (broken || python === undefined) return undefined;
    const r = idle.pop();
    if (r) return r;
    if (count >= size) return new Promise((resolve) => waiters.push(resolve));
    count++;
    const fresh = new Runner(env, python);
    if (await fresh.ready) return fresh;
    broken = true;
    count--;
    for (const w of waiters.splice(0)) w(undefined);
    return undefined;
  };
  const release = (r: Runner): void => {
    if (!r.alive) {
      // Killed after a time-out: whoever waits makes a new one.
      count--;
      const w = waiters.shift();
      if (w) void acquire().then(w);
      return;
    }
    const w = waiters.shift();
    if (w) w(r);
    else idle.push(r);
  };
  const close = (): void => {
    for (const r of idle.splice(0)) r.close();
  };
  return { acquire, release, close };
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
  // As many runners as validate runs checks at once; another binary (a stand-in) is spawned as is.
  const pool = binary === 'openstack' ? runnerPool(env, RUNNERS, clientPython(env)) : undefined;
  const failure = (args: string[], why: string, err: string): AppError => {
    const tail = err.trim().split('\n').slice(-6).join('\n');
    return new AppError('COMMAND_FAILED', `openstack ${args.join(' ')}: ${why}\n${tail}`);
  };
  const once = async (args: string[], timeoutMs: number): Promise<string> => {
    const runner = await pool?.acquire();
    if (runner) {
      const t0 = Date.now();
      try {
        const a = await runner.ask(args, timeoutMs);
        if (a !== undefined) {
          if (a.code === 0) return a.out;
          throw failure(args, `exit ${a.code}`, a.err);
        }
        // The command may have done its work before the runner died: not run again (a second
        // `server create` would leave a server behind), but reported.
        throw failure(
          args,
          Date.now() - t0 >= timeoutMs ? `killed after ${timeoutMs / 1000} s` : 'the openstack runner exited',
          '',
        );
      } finally {
        pool?.release(runner);
      }
    }
    return spawnOnce(args, timeoutMs);
  };
  const spawnOnce = async (args: string[], timeoutMs: number): Promise<string> => {
    const r = await runProcess([binary, ...args], { baseEnv: env, timeoutMs });
    if (r.code === 0) return r.stdout;
    if (r.code === EXIT_CANNOT_START && r.stderr.startsWith(`cannot run ${binary}:`))
      throw new AppError('COMMAND_FAILED', r.stderr, {
        hint: 'install python3-openstackclient and python3-heatclient (scripts/setup-host.sh does)',
      });
    const why = r.signal ? `killed by ${r.signal} after ${timeoutMs / 1000} s` : `exit ${r.code}`;
    throw failure(args, why, r.stderr);
  };
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
        await sleep(1000);
      }
    }
  };
  return {
    run,
    json: async <T>(args: string[], timeoutMs?: number): Promise<T> =>
      JSON.parse(await run([...args, '-f', 'json'], timeoutMs)) as T,
    close: () => pool?.close(),
  };
}
