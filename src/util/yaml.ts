/**
 * @module util/yaml
 * Reads YAML input files. A syntax error names the file, line and column; the parsed document keeps
 * node positions so later checks (unknown keys, bad values) can point at a line too. A key given
 * twice in one mapping is an error, unless the caller reads as Heat reads environment files
 * (`repeatedKeys: 'last-wins'`, PyYAML's rule): then the last value counts and each repeat is listed.
 */
import { readFile } from 'node:fs/promises';
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, type Pair, parseDocument } from 'yaml';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';

export interface YamlFile {
  path: string;
  value: unknown;
  /** lineOf returns the 1-based line of the value at a key path, when known (the last of repeats). */
  lineOf(path: (string | number)[]): number | undefined;
  /** commentOf returns the comment on a mapping entry's line (else the one just above it), if any. */
  commentOf(path: (string | number)[]): string | undefined;
  /** Keys given more than once in one mapping (only with `repeatedKeys: 'last-wins'`). */
  repeatedKeys: RepeatedKey[];
}

/** A key that one mapping holds more than once; the value at the last line is the one used. */
export interface RepeatedKey {
  /** The key path of the mapping holding the key (empty: the top level). */
  parent: (string | number)[];
  key: string;
  /** The 1-based lines of every occurrence, in file order. */
  lines: number[];
}

export interface ParseOptions {
  /** error (default): a repeated key is YAML_INVALID; last-wins: Heat's and PyYAML's rule. */
  repeatedKeys?: 'error' | 'last-wins';
}

/** readText reads a file, turning ENOENT/EISDIR/EACCES into FILE_NOT_FOUND with the path named. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(code ?? e);
    throw new AppError('FILE_NOT_FOUND', `cannot read ${what} ${path}: ${why}`);
  }
}

/** parseYaml parses text; `path` is used in messages only. */
export function parseYaml(text: string, path: string, options: ParseOptions = {}): YamlFile {
  const lastWins = options.repeatedKeys === 'last-wins';
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: !lastWins });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    const msg = first.message.split('\n')[0] ?? first.message;
    throw new AppError('YAML_INVALID', `${where}: malformed YAML: ${msg}`);
  }
  return {
    path,
    // With repeated keys allowed, toJS keeps the last value of each, as PyYAML's loader does.
    value: doc.toJS({ maxAliasCount: 1000 }) as unknown,
    repeatedKeys: lastWins ? findRepeatedKeys(doc.contents, [], lineCounter) : [],
    lineOf(keyPath) {
      // Walk down as far as the path exists; a mapping key points at the key's own line.
      let node: unknown = doc.contents;
      let line: number | undefined = rangeLine(node, lineCounter);
      for (const segment of keyPath) {
        if (isMap(node)) {
          const pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === String(segment));
          if (!pair) break;
          line = rangeLine(pair.key, lineCounter) ?? line;
          node = pair.value;
        } else if (isSeq(node) && typeof segment === 'number') {
          node = node.items[segment];
          line = rangeLine(node, lineCounter) ?? line;
        } else break;
      }
      return line;
    },
    commentOf(keyPath) {
      let node: unknown = doc.contents;
      let pair: Pair | undefined;
      for (const segment of keyPath) {
        if (!isMap(node)) return undefined;
        pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) return undefined;
        node = pair.value;
      }
      const text =
        (isNode(pair?.value) ? pair.value.comment : undefined) ??
        (isNode(pair?.key) ? pair.key.commentBefore : undefined);
      return text?.trim() || undefined;
    },
  };
}

/** loadYamlFile reads and parses a YAML file. */
export async function loadYamlFile(
  path: string,
  what: string,
  options: ParseOptions = {},
): Promise<YamlFile> {
  return parseYaml(await readText(path, what), path, options);
}

/** findRepeatedKeys lists, depth first in file order, every scalar key a mapping holds twice or more. */
function findRepeatedKeys(
  node: unknown,
  parent: (string | number)[],
  lineCounter: LineCounter,
): RepeatedKey[] {
  const found: RepeatedKey[] = [];
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      found.push(...findRepeatedKeys(item, [...parent, i], lineCounter));
    });
  } else if (isMap(node)) {
    const lines = new Map<string, number[]>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      lines.set(key, [...(lines.get(key) ?? []), rangeLine(pair.key, lineCounter) ?? 0]);
    }
    for (const [key, at] of lines) if (at.length > 1) found.push({ parent, key, lines: at });
    for (const pair of node.items) {
      if (isScalar(pair.key))
        found.push(...findRepeatedKeys(pair.value, [...parent, String(pair.key.value)], lineCounter));
    }
  }
  return found;
}

/** where formats `file:line` (or just the file) for messages. */
export function where(file: YamlFile, path: (string | number)[]): string {
  const line = file.lineOf(path);
  return line === undefined ? file.path : `${file.path}:${line}`;
}

function rangeLine(node: unknown, lineCounter: LineCounter): number | undefined {
  return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined;
}

/**
 * parseItem validates one list item of a YAML file with a schema; a failure names the file, the
 * line, the item ("role #2") and the field, using the schema's first issue.
 */
export function parseItem<T>(
  schema: z.ZodType<T>,
  item: unknown,
  file: YamlFile,
  path: (string | number)[],
  label: string,
  code: ErrorCode,
): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String) ?? [];
  const what = field.length ? `${label} field ${field.join('.')}` : label;
  throw new AppError(code, `${where(file, [...path, ...field])}: ${what}: ${issue?.message ?? 'invalid'}`);
}
