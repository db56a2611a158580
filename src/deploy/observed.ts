/**
 * @module deploy/observed
 * What a node says it runs: the managed containers from `podman ps -a --format json` and the local
 * images from `podman images --format json`, parsed into small value types. The labels are the only
 * state (paunch's "zero external state"). Pure parsers; the commands run through process/node.
 */
import { AppError } from '../errors.js';

export interface ObservedContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  state: string;
  status: string;
  exitCode: number;
  startedAt: number;
  labels: Record<string, string>;
  health: 'healthy' | 'unhealthy' | 'starting' | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJsonArray(text: string, what: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text.trim() || '[]');
  } catch (e) {
    throw new AppError('NODE_COMMAND_FAILED', `cannot parse ${what} output as JSON: ${String(e)}`);
  }
  if (v === null) return [];
  if (!Array.isArray(v)) throw new AppError('NODE_COMMAND_FAILED', `${what} did not print a JSON list`);
  return v;
}

/** parsePs parses `podman ps -a --format json`, keeping containers managed by overcloud. */
export function parsePs(text: string): ObservedContainer[] {
  const out: ObservedContainer[] = [];
  for (const raw of parseJsonArray(text, 'podman ps')) {
    if (!isRecord(raw)) continue;
    const labels = isRecord(raw.Labels)
      ? (Object.fromEntries(Object.entries(raw.Labels).map(([k, v]) => [k, String(v)])) as Record<
          string,
          string
        >)
      : {};
    if (!labels.managed_by?.startsWith('overcloud-')) continue;
    const status = String(raw.Status ?? '');
    const m = /\((healthy|unhealthy|starting)\)/.exec(status);
    out.push({
      id: String(raw.Id ?? ''),
      name: Array.isArray(raw.Names) ? String(raw.Names[0] ?? '') : String(raw.Names ?? ''),
      image: String(raw.Image ?? ''),
      imageId: String(raw.ImageID ?? ''),
      state: String(raw.State ?? ''),
      status,
      exitCode: typeof raw.ExitCode === 'number' ? raw.ExitCode : 0,
      startedAt: typeof raw.StartedAt === 'number' ? raw.StartedAt : 0,
      labels,
      health: m ? (m[1] as ObservedContainer['health']) : undefined,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** parseImages maps every local image name (`registry/repo:tag`) to its image ID. */
export function parseImages(text: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const raw of parseJsonArray(text, 'podman images')) {
    if (!isRecord(raw) || !Array.isArray(raw.Names)) continue;
    for (const n of raw.Names) ids.set(String(n), String(raw.Id ?? ''));
  }
  return ids;
}
