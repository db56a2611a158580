/**
 * @module test/support/golden
 * Golden files: expected outputs kept in test/golden/. `UPDATE_GOLDEN=1` rewrites them; review the
 * diff before committing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

export function assertGolden(name: string, actual: string): void {
  const path = join(packageRoot(), 'test', 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(
    existsSync(path),
    `golden file ${path} is missing; run the tests with UPDATE_GOLDEN=1 to create it`,
  );
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from golden file ${path}`);
}
