/**
 * @module image-build/podman
 * Image storage operations on local podman storage: find images by build key, import the bootstrap
 * rootfs, build one layer, tag, and export images into an OCI layout for a push.
 */
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { mustRun } from '../process/index.js';
import { sleep } from '../util/time.js';

export const KEY_LABEL = 'org.overcloud.build-key';

/** Time-outs of the long podman calls: an import or an export of a big image, and one build step. */
const BIG_STEP_MS = 30 * 60_000;
const BUILD_STEP_MS = 2 * 60 * 60_000;

const ImagesJson = z.array(
  z.looseObject({
    Id: z.string(),
    Labels: z.record(z.string(), z.string()).nullish(),
    Names: z.array(z.string()).nullish(),
  }),
);

export interface StoredImage {
  id: string;
  names: string[];
}

/** builtImages maps build key -> stored image, for every image a build has made. */
export async function builtImages(): Promise<Map<string, StoredImage>> {
  const stdout = await listImagesJson(['--filter', `label=${KEY_LABEL}`]);
  const out = new Map<string, StoredImage>();
  for (const img of ImagesJson.parse(JSON.parse(stdout || '[]'))) {
    const key = img.Labels?.[KEY_LABEL];
    if (key !== undefined) out.set(key, { id: img.Id, names: img.Names ?? [] });
  }
  return out;
}

/**
 * imagesNamed maps each name under `prefix` (e.g. `localhost/tripleoupstream/`) of a local image
 * to that image's short (12-character) ID, as `podman images` shows it.
 */
export async function imagesNamed(prefix: string): Promise<Map<string, string>> {
  const stdout = await listImagesJson(['--filter', `reference=${prefix}*`]);
  const out = new Map<string, string>();
  for (const img of ImagesJson.parse(JSON.parse(stdout || '[]'))) {
    for (const name of img.Names ?? []) if (name.startsWith(prefix)) out.set(name, img.Id.slice(0, 12));
  }
  return out;
}

/**
 * listImagesJson runs `podman images --format json`. podman lists image IDs first and reads each
 * image after: one removed in between (another build, a test cleaning up) fails the whole listing
 * with "image not known". That race is retried; any other failure is not.
 */
async function listImagesJson(args: string[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await mustRun(['podman', 'images', ...args, '--format', 'json'])).stdout;
    } catch (e) {
      if (attempt >= 5 || !/image not known/.test(errorMessage(e))) throw e;
      await sleep(100 * attempt);
    }
  }
}

/** importRootfs turns a rootfs tarball into a one-layer image and returns its ID. */
export async function importRootfs(tarPath: string, name: string, logFile: string): Promise<string> {
  const { stdout } = await mustRun(['podman', 'import', '--quiet', tarPath, name], {
    logFile,
    timeoutMs: BIG_STEP_MS,
    timeoutSignal: 'SIGTERM',
  });
  return stdout.trim().replace(/^sha256:/, '');
}

/**
 * buildImage builds one context folder into a single new layer (--squash: the image's own
 * instructions become one layer on top of the parent's). `mounts` are read-only bind mounts for
 * RUN steps only; they are never part of the image.
 */
export async function buildImage(
  contextDir: string,
  mounts: readonly [string, string][],
  logFile: string,
  iidFile: string,
): Promise<void> {
  await mustRun(
    [
      'podman',
      'build',
      '--pull=never',
      '--squash',
      '--network=host',
      // OCI, so the stored config is the one an OCI layout export and a push carry: its digest
      // stays the image ID, which is how a push recognises an image the registry already has.
      '--format=oci',
      '--iidfile',
      iidFile,
      ...mounts.flatMap(([src, dst]) => ['--volume', `${src}:${dst}:ro`]),
      contextDir,
    ],
    { logFile, timeoutMs: BUILD_STEP_MS, timeoutSignal: 'SIGTERM' },
  );
}

/** tagImage gives an image more names (existing names elsewhere move to it). */
export async function tagImage(id: string, names: readonly string[]): Promise<void> {
  if (names.length > 0) await mustRun(['podman', 'tag', id, ...names]);
}

/** removeImage deletes one image by name or ID (untagging only if other names remain). */
export async function removeImage(ref: string): Promise<void> {
  await mustRun(['podman', 'rmi', ref], { okCodes: [1, 2] });
}

/**
 * exportToLayout writes one image into an OCI image layout (`podman save --format oci-dir`),
 * adding to what the folder already holds: a blob already there is not written again, so
 * exporting parents first writes every shared layer once. `--uncompressed` keeps the layers as
 * stored, so their digests are the image's diff IDs and no CPU goes into compression.
 */
export async function exportToLayout(ref: string, dir: string, logFile: string): Promise<void> {
  await mustRun(['podman', 'save', '--quiet', '--format', 'oci-dir', '--uncompressed', '-o', dir, ref], {
    logFile,
    timeoutMs: BIG_STEP_MS,
    timeoutSignal: 'SIGTERM',
  });
}

/** bootstrapRootfs runs mmdebstrap with the host's apt sources into a tarball. */
export async function bootstrapRootfs(args: readonly string[], logFile: string): Promise<void> {
  await mustRun(['mmdebstrap', ...args], { logFile, timeoutMs: 1_200_000, timeoutSignal: 'SIGTERM' });
}
