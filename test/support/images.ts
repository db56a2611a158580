/**
 * @module test/support/images
 * Test images made by the tests: a busybox-static rootfs layer plus layers of random data, as Docker
 * schema 2 or OCI, pushed with the plainest protocol calls (monolithic POST+PUT) so that fixtures do
 * not depend on the code under test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface FixtureBlob {
  digest: string;
  size: number;
  data: Buffer;
  mediaType: string;
}

export interface FixtureImage {
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  config: FixtureBlob;
  layers: FixtureBlob[];
}

export interface FixtureIndex {
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  images: FixtureImage[];
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** tarOf builds a tar archive from a list of entries (all in memory: fixtures are small). */
export async function tarOf(
  entries: {
    name: string;
    data?: Buffer;
    mode?: number;
    type?: 'file' | 'directory' | 'symlink';
    linkname?: string;
  }[],
): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const header = {
      name: e.name,
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      type: e.type ?? 'file',
      mtime: new Date(0),
      ...(e.linkname ? { linkname: e.linkname } : {}),
    };
    if (e.type === 'file' || e.type === undefined) p.entry(header, e.data ?? Buffer.alloc(0));
    else p.entry(header);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A compressed layer and the digest of its uncompressed tar (the config's diff_id). */
export interface FixtureLayer {
  data: Buffer;
  diffId: string;
}

function gzLayer(tar: Buffer, level: number): FixtureLayer {
  return { data: gzipSync(tar, { level }), diffId: sha256(tar) };
}

/** busyboxLayer is a gzipped rootfs with /bin/busybox and the applets podman needs to run `sh -c`. */
export async function busyboxLayer(): Promise<FixtureLayer> {
  const busybox = readFileSync('/bin/busybox');
  const applets = ['sh', 'echo', 'cat', 'ls', 'sleep', 'true', 'false', 'id', 'env', 'wget', 'httpd', 'test'];
  const tar = await tarOf([
    { name: 'bin', type: 'directory' },
    { name: 'bin/busybox', data: busybox, mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc', type: 'directory' },
    { name: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
    { name: 'etc/group', data: Buffer.from('root:x:0:\n') },
    { name: 'tmp', type: 'directory', mode: 0o1777 },
  ]);
  return gzLayer(tar, 1);
}

/** randomLayer is a gzipped tar holding one file of incompressible random bytes. */
export async function randomLayer(size: number, name = 'data.bin'): Promise<FixtureLayer> {
  const tar = await tarOf([{ name, data: randomBytes(size) }]);
  return gzLayer(tar, 0);
}

export interface MakeImageOptions {
  format?: 'docker' | 'oci';
  layers: FixtureLayer[];
  architecture?: string;
  labels?: Record<string, string>;
  cmd?: string[];
}

/** makeImage builds config and manifest for the given compressed layers. */
export function makeImage(opts: MakeImageOptions): FixtureImage {
  const oci = opts.format === 'oci';
  const layerType = oci
    ? 'application/vnd.oci.image.layer.v1.tar+gzip'
    : 'application/vnd.docker.image.rootfs.diff.tar.gzip';
  const configType = oci
    ? 'application/vnd.oci.image.config.v1+json'
    : 'application/vnd.docker.container.image.v1+json';
  const mediaType = oci
    ? 'application/vnd.oci.image.manifest.v1+json'
    : 'application/vnd.docker.distribution.manifest.v2+json';
  const layers: FixtureBlob[] = opts.layers.map(({ data }) => ({
    data,
    digest: sha256(data),
    size: data.length,
    mediaType: layerType,
  }));
  const configJson = {
    architecture: opts.architecture ?? 'amd64',
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: opts.cmd ?? ['/bin/sh'],
      Labels: opts.labels ?? {},
    },
    rootfs: { type: 'layers', diff_ids: opts.layers.map((l) => l.diffId) },
    history: [],
  };
  const configData = Buffer.from(JSON.stringify(configJson));
  const config: FixtureBlob = {
    data: configData,
    digest: sha256(configData),
    size: configData.length,
    mediaType: configType,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: configType, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), mediaType, config, layers };
}

/** makeIndex wraps per-platform images in an OCI index or Docker manifest list. */
export function makeIndex(
  images: { image: FixtureImage; architecture: string }[],
  format: 'docker' | 'oci' = 'oci',
): FixtureIndex {
  const mediaType =
    format === 'oci'
      ? 'application/vnd.oci.image.index.v1+json'
      : 'application/vnd.docker.distribution.manifest.list.v2+json';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: images.map(({ image, architecture }) => ({
        mediaType: image.mediaType,
        digest: image.manifestDigest,
        size: image.manifest.length,
        platform: { architecture, os: 'linux' },
      })),
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), mediaType, images: images.map((i) => i.image) };
}

async function check(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/** pushBlob uploads one blob monolithically (POST then PUT ?digest=), skipping what exists. */
export async function pushBlob(
  baseUrl: string,
  repo: string,
  blob: { data: Buffer; digest: string },
  headers: Record<string, string> = {},
): Promise<void> {
  const head = await fetch(`${baseUrl}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD', headers });
  if (head.ok) return;
  const post = await fetch(`${baseUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  await check(post, `POST upload ${repo}`);
  const loc = new URL(post.headers.get('location') ?? '', baseUrl);
  loc.searchParams.set('digest', blob.digest);
  const put = await fetch(loc, {
    method: 'PUT',
    headers: {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': String(blob.data.length),
    },
    body: blob.data,
  });
  await check(put, `PUT blob ${blob.digest}`);
}

/** pushImage pushes blobs, config and manifest under `ref` (a tag or the manifest's digest). */
export async function pushImage(
  baseUrl: string,
  repo: string,
  ref: string,
  image: FixtureImage,
  headers: Record<string, string> = {},
): Promise<void> {
  for (const b of [...image.layers, image.config]) await pushBlob(baseUrl, repo, b, headers);
  const put = await fetch(`${baseUrl}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': image.mediaType },
    body: image.manifest,
  });
  await check(put, `PUT manifest ${repo}:${ref}`);
}

/** pushIndex pushes every platform image by digest, then the index under `tag`. */
export async function pushIndex(
  baseUrl: string,
  repo: string,
  tag: string,
  index: FixtureIndex,
  headers: Record<string, string> = {},
): Promise<void> {
  for (const img of index.images) await pushImage(baseUrl, repo, img.manifestDigest, img, headers);
  const put = await fetch(`${baseUrl}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': index.mediaType },
    body: index.manifest,
  });
  await check(put, `PUT index ${repo}:${tag}`);
}
