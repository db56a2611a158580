/**
 * @module deploy/health
 * Waiting for health checks. Podman 4.3 schedules checks with systemd timers and there is no systemd
 * on these nodes, so containers are created with `--health-interval disable` and we poll
 * `podman healthcheck run NAME` ourselves until it passes, the container stops, or time runs out.
 */

import type { NodeConnection } from '../process/index.js';
import { sleep } from '../util/time.js';

export const HEALTH_POLL_MS = 500;

export type HealthResult = { ok: true } | { ok: false; name: string; reason: string };

/** waitHealthy polls every pending container until all pass; the first one that cannot is reported. */
export async function waitHealthy(
  conn: NodeConnection,
  names: string[],
  timeoutMs: number,
): Promise<HealthResult> {
  const pending = new Set(names);
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, string>();
  while (pending.size > 0) {
    for (const name of [...pending]) {
      const r = await conn.podman(['healthcheck', 'run', name], { timeoutMs: Math.max(timeoutMs, 5_000) });
      if (r.code === 0) {
        pending.delete(name);
        continue;
      }
      const text = `${r.stdout}${r.stderr}`.trim();
      last.set(name, text);
      if (!/unhealthy/.test(text)) {
        // Not a failed check but a failed call: usually the container is no longer running.
        const s = await conn.podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
        const [status, code] = s.stdout.trim().split(' ');
        if (status !== 'running')
          return { ok: false, name, reason: `container is ${status ?? 'gone'} (exit code ${code ?? '?'})` };
      }
    }
    if (pending.size === 0) break;
    if (Date.now() >= deadline) {
      const name = [...pending][0] as string;
      return {
        ok: false,
        name,
        reason: `health check still failing after ${Math.round(timeoutMs / 1000)} s (${last.get(name) || 'unhealthy'})`,
      };
    }
    await sleep(HEALTH_POLL_MS);
  }
  return { ok: true };
}
