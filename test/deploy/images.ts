/**
 * @module test/deploy/images
 * Service images for deploy tests: busybox-static with every applet, and a small `kolla_start` that
 * follows kolla's contract as TripleO uses it (copy /var/lib/kolla/config_files/src/* to /, then exec
 * config.json's command). Each image gets its own label, hence its own image ID.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type FixtureImage, makeImage, pushImage, tarOf } from '../support/images.js';

export const KOLLA_START = `#!/bin/sh
# Test images' kolla_start: kolla_set_configs with TripleO's convention (source src/*, dest /, merge),
# then the command from config.json.
set -e
if [ -d /var/lib/kolla/config_files/src ]; then cp -a /var/lib/kolla/config_files/src/. /; fi
cmd=$(sed -n 's/^  "command": "\\(.*\\)",\\{0,1\\}$/\\1/p' /var/lib/kolla/config_files/config.json)
echo "kolla_start: running $cmd"
exec $cmd
`;

let layer: { data: Buffer; diffId: string } | undefined;

/** serviceLayer is built once per process: busybox, all applet links, kolla_start. */
export async function serviceLayer(): Promise<{ data: Buffer; diffId: string }> {
  if (layer) return layer;
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  const tar = await tarOf([
    { name: 'bin', type: 'directory' },
    { name: 'bin/busybox', data: readFileSync('/bin/busybox'), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'usr', type: 'directory' },
    { name: 'usr/local', type: 'directory' },
    { name: 'usr/local/bin', type: 'directory' },
    { name: 'usr/local/bin/kolla_start', data: Buffer.from(KOLLA_START), mode: 0o755 },
    { name: 'etc', type: 'directory' },
    {
      name: 'etc/passwd',
      data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n'),
    },
    { name: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { name: 'tmp', type: 'directory', mode: 0o1777 },
    { name: 'var', type: 'directory' },
    { name: 'var/log', type: 'directory' },
    { name: 'var/www', type: 'directory' },
  ]);
  layer = {
    data: gzipSync(tar, { level: 1 }),
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
  };
  return layer;
}

/** serviceImage is a kolla-style image whose default command is kolla_start. */
export async function serviceImage(name: string, version = '1'): Promise<FixtureImage> {
  return makeImage({
    layers: [await serviceLayer()],
    labels: { name, version },
    cmd: ['kolla_start'],
  });
}

/** pushServiceImages pushes `repo:tag` images (e.g. tripleo/keystone:1); another version re-pushes a tag. */
export async function pushServiceImages(url: string, refs: string[], version = '1'): Promise<void> {
  for (const ref of refs) {
    const [repo, tag] = ref.split(':') as [string, string];
    await pushImage(url, repo, tag, await serviceImage(ref, version));
  }
}
