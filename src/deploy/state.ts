/**
 * @module deploy/state
 * What a node has, read in one round trip (its managed containers with their labels, and its images),
 * and the pull of missing images. paunch's "zero external state": the labels are the state.
 */
import { AppError } from '../errors.js';
import type { NodeConnection } from '../process/index.js';
import { describeFailure } from '../process/index.js';
import { mapLimit } from '../util/concurrency.js';
import type { ApplyOptions } from './apply-options.js';
import { type ObservedContainer, parseImages, parsePs } from './observed.js';
import type { NodePlan } from './plan.js';

export interface NodeState {
  conn: NodeConnection;
  plan: NodePlan;
  observed: ObservedContainer[];
  images: Map<string, string>;
  recreated: Set<string>;
}

const STATE_SCRIPT =
  'podman ps -a --filter label=managed_by --format json && echo @@@ && podman images --format json\n';

/** readState asks a node for its managed containers and local images in one round trip. */
export async function readState(
  conn: NodeConnection,
): Promise<{ observed: ObservedContainer[]; images: Map<string, string> }> {
  const r = await conn.shell(STATE_SCRIPT, { timeoutMs: 60_000 });
  if (r.code !== 0)
    throw new AppError(
      'NODE_COMMAND_FAILED',
      `node ${conn.node.name}: cannot list containers: ${describeFailure(r)}`,
    );
  const [ps = '', images = ''] = r.stdout.split('\n@@@\n');
  return { observed: parsePs(ps), images: parseImages(images) };
}

/** registryHost is the registry part of an image reference, if it names one. */
export function registryHost(image: string): string | undefined {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
    ? first
    : undefined;
}

export async function pullMissing(
  s: NodeState,
  opts: Pick<ApplyOptions, 'pull' | 'insecureRegistries'>,
): Promise<{ pulled: string[]; errors: string[] }> {
  const wanted = s.plan.images.filter((i) => opts.pull === 'always' || !s.images.has(i));
  const errors: string[] = [];
  const results = await mapLimit(wanted, 4, async (image) => {
    const host = registryHost(image);
    const tls = host && opts.insecureRegistries.has(host) ? ['--tls-verify=false'] : [];
    const r = await s.conn.podman(['pull', '-q', ...tls, image], { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) errors.push(`${s.conn.node.name}: ${image}: ${describeFailure(r)}`);
    return r;
  });
  if (wanted.length > 0 && errors.length === 0) s.images = (await readState(s.conn)).images;
  return {
    pulled: wanted.filter((_, i) => results[i]?.code === 0).map((i) => `${s.conn.node.name}: ${i}`),
    errors,
  };
}
