import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/util/paths.js';

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('one process layer', () => {
  it('no file under src/ but src/process/ imports node:child_process', async () => {
    const src = join(packageRoot(), 'src');
    const files = await sources(src);
    assert.ok(files.length > 50, `found the sources (${files.length})`);
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(src, f);
      if (rel.startsWith('process/')) continue;
      if (
        /from ['"](node:)?child_process['"]|import\(['"](node:)?child_process['"]\)/.test(
          await readFile(f, 'utf8'),
        )
      )
        offenders.push(rel);
    }
    assert.deepEqual(offenders, []);
  });
});
