/**
 * @module test/image-build/services
 * Runs built images the way the deploy engine will: podman, config.json plus config files mounted
 * at /var/lib/kolla/config_files, healthchecks polled with `podman healthcheck run`. Every
 * container and volume is named with the run's suffix and removed by cleanup().
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { run } from '../support/exec.js';

export interface ServiceSpec {
  name: string;
  image: string;
  /** config.json content */
  config: unknown;
  /** file name -> content, placed next to config.json */
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** podman network options, e.g. ['-p', '127.0.0.1:1:2'] or ['--network', 'container:x'] */
  network: string[];
  healthcheck?: string;
  rm?: boolean;
  detach?: boolean;
}

export class Services {
  private readonly containers: string[] = [];

  constructor(
    private readonly dir: string,
    readonly suffix: string,
  ) {}

  /** start runs one container (detached unless told) and returns its name. */
  async start(spec: ServiceSpec): Promise<string> {
    const name = `${spec.name}-${this.suffix}`;
    const cfg = join(this.dir, spec.name);
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'config.json'), JSON.stringify(spec.config, null, 2));
    for (const [file, content] of Object.entries(spec.files ?? {})) await writeFile(join(cfg, file), content);
    const args = ['run', '--name', name, ...spec.network, '-v', `${cfg}:/var/lib/kolla/config_files:ro`];
    args.push('-e', 'KOLLA_CONFIG_STRATEGY=COPY_ALWAYS');
    for (const [k, v] of Object.entries(spec.env ?? {})) args.push('-e', `${k}=${v}`);
    if (spec.healthcheck) args.push('--health-cmd', spec.healthcheck, '--health-interval', 'disable');
    if (spec.rm) args.push('--rm');
    if (spec.detach !== false) args.push('-d');
    if (!spec.rm) this.containers.push(name);
    await run('podman', [...args, spec.image], 300_000);
    return name;
  }

  /** healthy polls `podman healthcheck run` until it passes; the last failure is thrown with the logs. */
  async healthy(name: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await run('podman', ['healthcheck', 'run', name], 30_000);
        return;
      } catch (e) {
        if (Date.now() > deadline) {
          const logs = await this.logs(name);
          throw new Error(`${name} never became healthy: ${(e as Error).message}\n--- logs ---\n${logs}`);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async logs(name: string): Promise<string> {
    try {
      const r = await run('podman', ['logs', '--tail', '40', name]);
      return `${r.stdout}${r.stderr}`;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async cleanup(): Promise<void> {
    for (const name of this.containers.reverse()) {
      await run('podman', ['rm', '-f', '-t', '0', name]).catch(() => undefined);
    }
  }
}

/** tcpExchange sends one request and returns what arrives until `until` matches or 10 s pass. */
export function tcpExchange(port: number, request: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`127.0.0.1:${port}: no ${until} in ${JSON.stringify(got.slice(0, 200))}`));
    }, 10_000);
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      got += d.toString('utf8');
      if (until.test(got)) {
        clearTimeout(timer);
        sock.end();
        resolve(got);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
