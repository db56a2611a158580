import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageResult } from '../../src/image-build/builder.js';
import { pushTargets } from '../../src/image-build/publish.js';
import { formatReference } from '../../src/oci/reference.js';

const result = (name: string, id: string | undefined, names: string[], versionTag?: string): ImageResult => ({
  name,
  key: `k-${name}`,
  status: id === undefined ? 'failed' : 'cached',
  seconds: 0,
  names,
  ...(id === undefined ? {} : { id }),
  ...(versionTag === undefined ? {} : { versionTag }),
});

test('push targets: every name with both tags, parents first, exported under one local name; failed images left out', () => {
  const images = [
    result('base', 'a'.repeat(64), ['localhost/overcloud/debian-binary-base'], '12.4'),
    result('nova-api', 'b'.repeat(64), [
      'localhost/overcloud/debian-binary-nova-api',
      'localhost/overcloud/debian-binary-nova-placement-api',
    ]),
    result('broken', undefined, ['localhost/overcloud/debian-binary-broken'], '1.0'),
  ];
  const targets = pushTargets(images, 'latest', '127.0.0.1:8787');
  assert.deepEqual(
    targets.map((t) => [t.image, formatReference(t.local), formatReference(t.dest)]),
    [
      [
        'base',
        'localhost/overcloud/debian-binary-base:latest',
        '127.0.0.1:8787/overcloud/debian-binary-base:latest',
      ],
      [
        'base',
        'localhost/overcloud/debian-binary-base:latest',
        '127.0.0.1:8787/overcloud/debian-binary-base:12.4',
      ],
      [
        'nova-api',
        'localhost/overcloud/debian-binary-nova-api:latest',
        '127.0.0.1:8787/overcloud/debian-binary-nova-api:latest',
      ],
      [
        'nova-api',
        'localhost/overcloud/debian-binary-nova-api:latest',
        '127.0.0.1:8787/overcloud/debian-binary-nova-placement-api:latest',
      ],
    ],
  );
  assert.equal(targets[2]?.id, 'b'.repeat(64));
  const remote = pushTargets(
    [result('base', 'c'.repeat(64), ['192.168.24.1:8787/tripleo/debian-binary-base'])],
    'latest',
    '127.0.0.1:5000',
  );
  assert.equal(formatReference(remote[0]!.dest), '127.0.0.1:5000/tripleo/debian-binary-base:latest');
  assert.equal(formatReference(remote[0]!.local), '192.168.24.1:8787/tripleo/debian-binary-base:latest');
});
