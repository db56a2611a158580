/**
 * @module heat/yaml
 * Reads YAML input files. A syntax error names the file, line and column; the parsed document keeps
 * node positions so later checks (unknown keys, bad values) can point at a line too.
 */
import { readFile } from 'node:fs/promises';
import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, type Pair, parseDocument } from 'yaml';
import type { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';

export interface YamlFile {
  path: string;
  value: unknown;
  /** lineOf returns the 1-based line of the value at a key path, when known. */
  lineOf(path: (string | number)[]): number | undefined;
  /** commentOf returns the comment on a mapping entry's line (else the one just above it), if any. */
  commentOf(path: (string | number)[]): string | undefined;
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
export function parseYaml(text: string, path: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? `${path}:${pos.line}:${pos.col}` : path;
    const msg = first.message.split('\n')[0] ?? first.message;
    throw new AppError('YAML_INVALID', `${where}: malformed YAML: ${msg}`);
  }
  return {
    path,
    value: doc.toJS({ maxAliasCount: 1000 }) as unknown,
    lineOf(keyPath) {
      // Walk down as far as the path exists; a mapping key points at the key's own line.
      let node: unknown = doc.contents;
      let line: number | undefined = rangeLine(node, lineCounter);
      for (const segment of keyPath) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
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
        pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
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
export async function loadYamlFile(path: string, what: string): Promise<YamlFile> {
  return parseYaml(await readText(path, what), path);
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
