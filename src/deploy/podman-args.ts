/**
 * @module deploy/podman-args
 * The exact podman command lines for paunch entries (paunch `builder/podman.py` semantics), built
 * purely so that apply, `--dry-run` and `debug print-cmd` agree byte for byte. There is no systemd
 * here to schedule health checks, so containers get `--health-interval disable` and the deploy runs
 * `podman healthcheck run` itself.
 */
import type { ContainerSpec } from './spec.js';

export interface Labelled {
  name: string;
  configId: string;
  managedBy: string;
  spec: ContainerSpec;
  configData: string;
}

const duration = (d: string | number): string =>
  typeof d === 'number' ? `${d}s` : /^\d+$/.test(d) ? `${d}s` : d;

/** runArgs is `podman run ...` (without the leading `podman`) for an action: run entry. */
export function runArgs(c: Labelled): string[] {
  const s = c.spec;
  const args = ['run', `--name=${c.name}`];
  args.push(
    `--label=config_id=${c.configId}`,
    `--label=container_name=${c.name}`,
    `--label=managed_by=${c.managedBy}`,
    `--label=config_data=${c.configData}`,
  );
  if (s.detach) args.push('--detach=true');
  if (s.net) args.push(`--net=${s.net}`);
  if (s.ipc) args.push(`--ipc=${s.ipc}`);
  if (s.pid) args.push(`--pid=${s.pid}`);
  if (s.uts) args.push(`--uts=${s.uts}`);
  if (s.privileged) args.push('--privileged=true');
  if (s.restart) args.push(`--restart=${s.restart}`);
  if (s.user) args.push(`--user=${s.user}`);
  if (s.hostname) args.push(`--hostname=${s.hostname}`);
  for (const e of s.environment ?? []) args.push(`--env=${e}`);
  for (const v of s.volumes ?? []) args.push(`--volume=${v}`);
  for (const cap of s.cap_add ?? []) args.push(`--cap-add=${cap}`);
  for (const cap of s.cap_drop ?? []) args.push(`--cap-drop=${cap}`);
  for (const o of s.security_opt ?? []) args.push(`--security-opt=${o}`);
  for (const u of s.ulimit ?? []) args.push(`--ulimit=${u}`);
  if (s.healthcheck) {
    const h = s.healthcheck;
    args.push(`--health-cmd=${h.test}`, '--health-interval=disable');
    if (h.timeout !== undefined) args.push(`--health-timeout=${duration(h.timeout)}`);
    if (h.retries !== undefined) args.push(`--health-retries=${h.retries}`);
    if (h.start_period !== undefined) args.push(`--health-start-period=${duration(h.start_period)}`);
  }
  args.push(s.image ?? '', ...(s.command ?? []));
  return args;
}

/** execArgs is `podman exec ...` for an action: exec entry; command[0] names the target container. */
export function execArgs(spec: ContainerSpec): string[] {
  const [target, ...cmd] = spec.command ?? [];
  return ['exec', ...(spec.user ? [`--user=${spec.user}`] : []), target ?? '', ...cmd];
}
