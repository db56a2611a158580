/**
 * The folder rules of src/, as a test: cli -> stages -> shared model, no import cycles, and a
 * stage reaches another stage only through that stage's index.ts. Every import is read with
 * TypeScript's own pre-processor (static imports, `import type`, `export ... from`, dynamic
 * `import()`), so nothing the compiler follows is missed.
 *
 * The folder lists below are the rules' data: renaming a folder means editing one line here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The command line: imports anything, imported by nothing. */
const CLI = 'cli';
/** The shared model: imported by everyone, imports only the shared model. */
const SHARED = ['oci', 'util', 'types', 'heat', 'errors.ts'];
/** Every other top-level entry of src/ is a stage; its gate is this file. */
const STAGE_GATE = 'index.ts';

type Kind = 'cli' | 'shared' | 'stage';

interface Edge {
  from: string;
  to: string;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'src'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('folders.test: cannot find the repository root');
    dir = parent;
  }
  return dir;
}

const SRC = join(repoRoot(), 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The src-relative path a relative specifier names (`./x.js` -> `dir/x.ts`), or undefined. */
function resolveImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(join(SRC, fromFile)), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(SRC, candidate);
  }
  throw new Error(`${fromFile}: import "${specifier}" names no file`);
}

function importEdges(files: string[]): Edge[] {
  return files.flatMap((from) => {
    const info = ts.preProcessFile(readFileSync(join(SRC, from), 'utf8'), true, true);
    return info.importedFiles.flatMap((f) => {
      const to = resolveImport(from, f.fileName);
      return to === undefined ? [] : [{ from, to }];
    });
  });
}

/** The top-level entry of src/ a file belongs to: a folder name, or the file itself. */
const area = (file: string): string => file.split('/')[0] ?? file;

function kindOf(file: string): Kind {
  const a = area(file);
  if (a === CLI) return 'cli';
  return SHARED.includes(a) ? 'shared' : 'stage';
}

/**
 * The rules over one import `from -> to` between two top-level entries of src/ (imports inside
 * one folder are free, apart from cycles). Each row: its name, and when an import breaks it.
 */
const RULES: { rule: string; breaks: (from: string, to: string) => boolean }[] = [
  {
    rule: '(b) a stage imports another stage only through its index.ts',
    breaks: (from, to) =>
      kindOf(from) === 'stage' && kindOf(to) === 'stage' && to !== `${area(to)}/${STAGE_GATE}`,
  },
  {
    rule: '(c) the shared model imports no stage and not the cli',
    breaks: (from, to) => kindOf(from) === 'shared' && kindOf(to) !== 'shared',
  },
  {
    rule: '(d) nothing imports the cli',
    breaks: (_from, to) => kindOf(to) === 'cli',
  },
];
const CYCLE_RULE = '(a) no import cycle between files';

/** violations lists every import between two areas that breaks a rule of RULES. */
function violations(edges: Edge[]): string[] {
  return edges.flatMap(({ from, to }) =>
    area(from) === area(to)
      ? []
      : RULES.filter((r) => r.breaks(from, to)).map((r) => `${r.rule}: ${from} -> ${to}`),
  );
}

/** cycles lists every strongly connected set of more than one file (Tarjan), and self-imports. */
function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (next.get(v) ?? []).includes(v)) out.push(group.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const edges = importEdges(files);

test('every import in src/ is seen (the parser finds the imports it should)', () => {
  assert.ok(files.length > 50, `only ${files.length} files under ${SRC}`);
  // The CLI loads its commands' libraries with dynamic import(): those edges must be present.
  assert.ok(
    edges.some((e) => e.from === 'cli/commands/upload.ts' && e.to === 'upload/index.ts'),
    'the dynamic import of upload/index.js from cli/commands/upload.ts was not found',
  );
  assert.ok(edges.some((e) => kindOf(e.to) === 'shared'));
});

test(CYCLE_RULE, () => {
  const found = cycles(edges);
  assert.deepEqual(found, [], found.map((c) => `cycle: ${c.join(' <-> ')}`).join('\n'));
});

test(RULES.map((r) => r.rule).join('; '), () => {
  const found = violations(edges);
  assert.deepEqual(found, [], found.join('\n'));
});

/**
 * Every error the tool raises on purpose is an AppError (a stable code, an actionable message):
 * a bare `new Error(` in src/ is an error without either. Files listed here are waiting for their
 * owners' change (the registry server is being hardened in parallel), nothing else.
 */
const BARE_ERROR_PENDING: readonly string[] = [
  // Raises an errno-style ELOOP error on purpose, as the filesystem would for a link it refuses,
  // so every caller treats a planted symlink exactly as a missing file.
  'server/storage/safe-fs.ts',
];

test('no bare new Error( in src/ (AppError subclasses with stable codes instead)', () => {
  const found = files.filter((f) => {
    const text = readFileSync(join(SRC, f), 'utf8');
    return /\bnew Error\(/.test(text) && !BARE_ERROR_PENDING.includes(f);
  });
  assert.deepEqual(found, [], `bare new Error( in: ${found.join(', ')}`);
});

test('the rules catch what they are about (checked on made-up edges)', () => {
  assert.deepEqual(
    cycles([
      { from: 'a/x.ts', to: 'a/y.ts' },
      { from: 'a/y.ts', to: 'a/x.ts' },
    ]),
    [['a/x.ts', 'a/y.ts']],
  );
  assert.equal(violations([{ from: 'upload/plan.ts', to: 'server/storage/fs.ts' }]).length, 1);
  assert.equal(violations([{ from: 'upload/plan.ts', to: 'server/index.ts' }]).length, 0);
  assert.equal(violations([{ from: 'oci/digest.ts', to: 'registry/index.ts' }]).length, 1);
  assert.equal(violations([{ from: 'oci/digest.ts', to: 'util/atomic.ts' }]).length, 0);
  assert.equal(violations([{ from: 'deploy/run.ts', to: 'cli/main.ts' }]).length, 1);
  assert.equal(violations([{ from: 'cli/main.ts', to: 'deploy/run.ts' }]).length, 0);
});
