/**
 * @module test/support/upload-fixtures
 * A small overcloud-shaped image set for upload tests: images sharing a busybox base layer, Docker
 * schema 2 and OCI, and a two-platform index; pushed to a source registry, with an images file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import {
  busyboxLayer,
  type FixtureImage,
  type FixtureLayer,
  makeImage,
  makeIndex,
  pushImage,
  pushIndex,
  randomLayer,
} from './images.js';

export interface FixtureSet {
  /** repo:tag → the manifest digest the target must end up with. */
  expected: Map<string, string>;
  /** Every unique blob digest and size. */
  blobs: Map<string, number>;
  /** Names for the images file (`<sourceHost>/<repo>:<tag>`). */
  names: string[];
  /** repo → the digest of its last (image-specific) layer. */
  ownLayer: Map<string, string>;
}

/** makeFixtureSet pushes `count` service images (+ an OCI image + a two-platform index). */
export async function makeFixtureSet(
  sourceUrl: string,
  sourceHost: string,
  opts: { count?: number; layerSize?: number } = {},
): Promise<FixtureSet> {
  const base = await busyboxLayer();
  const shared = await randomLayer(opts.layerSize ?? 64 * 1024, 'openstack-base.bin');
  const expected = new Map<string, string>();
  const blobs = new Map<string, number>();
  const names: string[] = [];
  const ownLayer = new Map<string, string>();
  const note = (img: FixtureImage) => {
    for (const b of [img.config, ...img.layers]) blobs.set(b.digest, b.size);
  };
  const push = async (repo: string, layers: FixtureLayer[], format: 'docker' | 'oci') => {
    const img = makeImage({
      format,
      layers,
      labels: { name: repo, version: '1' },
      cmd: ['/bin/sh', '-c', `echo hello from ${repo}`],
    });
    await pushImage(sourceUrl, repo, 'current', img);
    note(img);
    ownLayer.set(repo, img.layers[img.layers.length - 1]?.digest ?? '');
    expected.set(`${repo}:current`, img.manifestDigest);
    names.push(`${sourceHost}/${repo}:current`);
  };
  for (let i = 0; i < (opts.count ?? 3); i++) {
    await push(
      `tripleomaster/centos-binary-svc${i}`,
      [base, shared, await randomLayer(opts.layerSize ?? 64 * 1024, `svc${i}.bin`)],
      'docker',
    );
  }
  await push('tripleomaster/centos-binary-oci', [base, await randomLayer(8 * 1024)], 'oci');
  const amd = makeImage({ format: 'oci', layers: [base], architecture: 'amd64', labels: { arch: 'amd64' } });
  const arm = makeImage({
    format: 'oci',
    layers: [base, await randomLayer(4096)],
    architecture: 'arm64',
    labels: { arch: 'arm64' },
  });
  const idx = makeIndex([
    { image: amd, architecture: 'amd64' },
    { image: arm, architecture: 'arm64' },
  ]);
  await pushIndex(sourceUrl, 'tripleomaster/centos-binary-multi', 'current', idx);
  note(amd);
  note(arm);
  expected.set('tripleomaster/centos-binary-multi:current', idx.manifestDigest);
  names.push(`${sourceHost}/tripleomaster/centos-binary-multi:current`);
  return { expected, blobs, names, ownLayer };
}

/** writeImagesFile writes a prepare-style images file for `names` pushed to `destination`. */
export async function writeImagesFile(dir: string, names: string[], destination: string): Promise<string> {
  const path = join(dir, 'images.yaml');
  const body = names.map((n) => `- imagename: ${n}\n  push_destination: ${destination}\n`).join('');
  await writeFile(path, `container_images:\n${body}`);
  return path;
}

/** assertServed checks with skopeo that every `repo:tag` at `host` names exactly the expected manifest. */
export async function assertServed(host: string, expected: Map<string, string>): Promise<void> {
  for (const [ref, digest] of expected) {
    const { stdout } = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${host}/${ref}`,
    ]);
    assert.equal(`sha256:${createHash('sha256').update(stdout).digest('hex')}`, digest, ref);
  }
}
