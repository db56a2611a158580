import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { type Digest, sha256Of } from '../../src/oci/digest.js';
import { parseReference } from '../../src/oci/reference.js';
import type { RawManifest } from '../../src/registry/index.js';
import {
  type BlobLocation,
  describePlan,
  entriesFromText,
  planUpload,
  type ResolvedImage,
  targetRepository,
  tasksFromEntries,
} from '../../src/upload/index.js';

const blob = (name: string, size: number): Descriptor => ({
  mediaType: 'application/octet-stream',
  digest: sha256Of(name),
  size,
});
const raw = (name: string): RawManifest => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: sha256Of(name),
  bytes: Buffer.from(name),
});

function image(src: string, dest: string, blobs: Descriptor[]): ResolvedImage {
  const root = raw(src);
  const task = { imagename: src, source: parseReference(src), target: parseReference(dest), origin: 'test' };
  return { task, root, images: [{ raw: root, blobs }], isIndex: false };
}

const base = blob('base', 1000);
const osBase = blob('openstack-base', 500);
const empty = { tags: new Map<string, Digest>(), blobs: [] };
const key = (l: BlobLocation): string => `${l.host}/${l.repository}@${l.digest}`;

test('shared blobs cross the wire once per destination; other repositories mount them', () => {
  const a = image('src.example/ns/a:1', 'dst:8787/ns/a:1', [base, osBase, blob('a', 10)]);
  const b = image('src.example/ns/b:1', 'dst:8787/ns/b:1', [base, osBase, blob('b', 20)]);
  const c = image('src.example/ns/c:1', 'other:5000/ns/c:1', [base]);
  const plan = planUpload([a, b, c], empty);
  const copied = plan.copies.map((x) => `${x.to.host}/${x.to.repository}@${x.blob.size}`);
  assert.deepEqual(copied, [
    'dst:8787/ns/a@1000',
    'other:5000/ns/c@1000',
    'dst:8787/ns/a@500',
    'dst:8787/ns/b@20',
    'dst:8787/ns/a@10',
  ]);
  assert.deepEqual(
    plan.mounts.map(
      (m) => `${m.to.repository}<-${m.fromRepository}@${m.blob.size} after ${m.after !== undefined}`,
    ),
    ['ns/b<-ns/a@1000 after true', 'ns/b<-ns/a@500 after true'],
  );
  assert.equal(plan.bytesToCopy, 1000 + 1000 + 500 + 20 + 10);
  assert.deepEqual(
    plan.images.map((p) => p.action),
    ['copy', 'copy', 'copy'],
  );
});

test('what the destination holds is skipped or mounted, and a current tag skips the image', () => {
  const a = image('src.example/ns/a:1', 'dst:8787/ns/a:1', [base, blob('a', 10)]);
  const b = image('src.example/ns/b:1', 'dst:8787/ns/b:1', [base, blob('b', 20)]);
  const c = image('src.example/ns/c:1', 'dst:8787/ns/c:1', [base, osBase]);
  const dest = {
    tags: new Map<string, Digest>([['dst:8787/ns/a:1', a.root.digest]]),
    blobs: [
      { host: 'dst:8787', repository: 'ns/b', digest: base.digest },
      { host: 'dst:8787', repository: 'zzz', digest: osBase.digest },
    ],
  };
  const plan = planUpload([a, b, c], dest);
  assert.deepEqual(
    plan.images.map((p) => p.action),
    ['present', 'copy', 'copy'],
  );
  assert.deepEqual(
    plan.copies.map((x) => x.blob.size),
    [20],
  );
  // base: in ns/b already (existing), mounted into ns/c; openstack-base mounted from another repo.
  assert.deepEqual(plan.existing, [{ host: 'dst:8787', repository: 'ns/b', digest: base.digest }]);
  assert.deepEqual(plan.mounts.map((m) => `${m.to.repository}<-${m.fromRepository}`).sort(), [
    'ns/c<-ns/b',
    'ns/c<-zzz',
  ]);
  // Nothing moves before its manifest's blobs are all accounted for.
  for (const p of plan.images.filter((x) => x.action === 'copy')) {
    const planned = new Set([
      ...plan.copies.map((x) => key(x.to)),
      ...plan.mounts.map((m) => key(m.to)),
      ...plan.existing.map(key),
    ]);
    for (const l of p.needs) assert.ok(planned.has(key(l)), key(l));
  }
});

test('the plan is plain data: it survives a JSON round trip unchanged and names its sources', () => {
  const a = image('src.example/ns/a:1', 'dst:8787/ns/a:1', [base, blob('a', 10)]);
  const b = image('src.example/ns/b:1', 'dst:8787/ns/b:1', [base, blob('b', 20)]);
  const fromLayout = { ...image('localhost/ns/c:1', 'dst:8787/ns/c:1', [blob('c', 5)]), layout: '/tmp/l' };
  const plan = planUpload([a, b, fromLayout], empty);
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  assert.deepEqual(plan.copies.find((c) => c.blob.size === 1000)?.from, {
    kind: 'registry',
    host: 'src.example',
    repository: 'ns/a',
  });
  assert.deepEqual(plan.copies.find((c) => c.blob.size === 5)?.from, { kind: 'layout', dir: '/tmp/l' });
  assert.deepEqual(plan.mounts[0]?.after, { host: 'dst:8787', repository: 'ns/a', digest: base.digest });
  assert.deepEqual(plan.images[0]?.manifests, [
    { reference: '1', digest: a.root.digest, mediaType: a.root.mediaType, size: a.root.bytes.length },
  ]);
  assert.equal(plan.images[1]?.name, 'src.example/ns/b:1 -> dst:8787/ns/b:1');
  const lines = describePlan(plan);
  assert.match(lines[0] ?? '', /^copy +src\.example\/ns\/a:1 -> dst:8787\/ns\/a:1: 2 blob\(s\) to copy/);
  assert.match(lines[1] ?? '', /1 blob\(s\) to copy .*1 to mount/);
  assert.match(
    lines.at(-1) ?? '',
    /^would copy 3 image\(s\), 0 already present; 0\.0 MB in 4 blob\(s\), 1 mount/,
  );
});

test('an index pushes its children by digest before the tag', () => {
  const c1 = raw('child1');
  const c2 = raw('child2');
  const root = raw('index');
  const task = {
    imagename: 'x',
    source: parseReference('src.example/ns/m:1'),
    target: parseReference('dst:8787/ns/m:1'),
    origin: 't',
  };
  const plan = planUpload(
    [
      {
        task,
        root,
        isIndex: true,
        images: [
          { raw: c1, blobs: [base] },
          { raw: c2, blobs: [base, osBase] },
        ],
      },
    ],
    empty,
  );
  assert.deepEqual(
    plan.images[0]?.manifests.map((m) => m.reference),
    [c1.digest, c2.digest, '1'],
  );
  assert.equal(plan.copies.length, 2);
});

test('images files: TripleO naming, pull_source, merge by imagename, every bad entry reported', () => {
  assert.equal(
    targetRepository('docker.io/tripleopike/centos-binary-nova-api:latest'),
    'tripleopike/centos-binary-nova-api',
  );
  assert.equal(targetRepository('192.168.24.1:8787/ns/img@sha256:abc'), 'ns/img');
  const one = entriesFromText(
    'a.yaml',
    `container_images:
- imagename: docker.io/tripleopike/centos-binary-nova-api:latest
  push_destination: 192.168.24.1:8787
- imagename: tripleopike/centos-binary-keystone:pike
  pull_source: quay.example:5000
uploads:
- imagename: docker.io/tripleopike/centos-binary-nova-api:latest
  push_destination: ignored:1
`,
  );
  const two = entriesFromText(
    'b.yaml',
    'container_images:\n- imagename: tripleopike/centos-binary-keystone:pike\n  push_destination: later:5000\n',
  );
  const tasks = tasksFromEntries([...one, ...two]);
  assert.equal(tasks.length, 2);
  assert.equal(
    `${tasks[0]?.target.registry}/${tasks[0]?.target.repository}:${tasks[0]?.target.tag}`,
    '192.168.24.1:8787/tripleopike/centos-binary-nova-api:latest',
  );
  assert.equal(
    `${tasks[1]?.source.registry}/${tasks[1]?.source.repository}`,
    'quay.example:5000/tripleopike/centos-binary-keystone',
  );
  // First file had no push_destination for keystone: the later file adds it.
  assert.equal(tasks[1]?.target.registry, 'later:5000');
  assert.equal(tasks[1]?.target.repository, 'centos-binary-keystone');
  const defaults = tasksFromEntries(entriesFromText('c.yaml', 'uploads:\n- imagename: reg.example/ns/x:1\n'));
  assert.equal(defaults[0]?.target.registry, 'localhost:8787');
  const bad = entriesFromText(
    'bad.yaml',
    'container_images:\n- imagename: ""\n- push_destination: x:1\n- imagename: "UPPER/Case"\n- imagename: ok.example/a/b:1\n  push_destination: "not a host"\n',
  );
  assert.throws(
    () => tasksFromEntries(bad),
    (e: Error & { code: string; detail: string[] }) => {
      assert.equal(e.code, 'IMAGES_FILE_INVALID');
      assert.equal(e.detail.length, 4, e.message);
      assert.match(e.message, /bad\.yaml: container_images\[0\]/);
      assert.match(e.message, /bad\.yaml: container_images\[1\]: imagename/);
      assert.match(e.message, /bad\.yaml: container_images\[3\]/);
      return true;
    },
  );
});
