/**
 * @module registry/registries-conf
 * Which registries `/etc/containers/registries.conf` (and `registries.conf.d/*.conf`) names insecure.
 * Reads only the TOML the file uses in practice: `[[registry]]` tables with `location`/`prefix` and
 * `insecure = true`, and the v1 form `[registries.insecure] registries = [...]`.
 * https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGISTRIES_CONF = '/etc/containers/registries.conf';
export const REGISTRIES_CONF_D = '/etc/containers/registries.conf.d';

type Value = string | boolean | string[];

/** parseTomlSubset returns `[section, key, value]` triples; `[[x]]` sections get an index suffix. */
export function parseTomlSubset(text: string): { section: string; key: string; value: Value }[] {
  const out: { section: string; key: string; value: Value }[] = [];
  let section = '';
  const counts = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i] ?? '').trim();
    if (!line) continue;
    const arr = /^\[\[\s*([\w.-]+)\s*\]\]$/.exec(line);
    if (arr?.[1]) {
      const n = counts.get(arr[1]) ?? 0;
      counts.set(arr[1], n + 1);
      section = `${arr[1]}#${n}`;
      continue;
    }
    const tbl = /^\[\s*([\w."-]+)\s*\]$/.exec(line);
    if (tbl?.[1]) {
      section = tbl[1];
      continue;
    }
    const kv = /^("?[\w.-]+"?)\s*=\s*(.*)$/.exec(line);
    if (!kv?.[1]) continue;
    let raw = kv[2] ?? '';
    // Arrays may span lines: gather until the closing bracket.
    if (raw.startsWith('[')) {
      while (!raw.includes(']') && i + 1 < lines.length) raw += ` ${stripComment(lines[++i] ?? '').trim()}`;
    }
    const value = parseValue(raw.trim());
    if (value !== undefined) out.push({ section, key: kv[1].replace(/"/g, ''), value });
  }
  return out;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function parseValue(raw: string): Value | undefined {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  const str = /^"((?:[^"\\]|\\.)*)"$|^'([^']*)'$/.exec(raw);
  if (str) return str[1] ?? str[2] ?? '';
  if (raw.startsWith('[')) {
    const items = raw.slice(1, raw.lastIndexOf(']')).match(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g) ?? [];
    return items.map((s) => s.slice(1, -1));
  }
  return undefined;
}

/** insecureFromToml lists the hosts (or host/namespace prefixes) a registries.conf marks insecure. */
export function insecureFromToml(text: string): string[] {
  const entries = parseTomlSubset(text);
  const bySection = new Map<string, Map<string, Value>>();
  for (const e of entries) {
    let m = bySection.get(e.section);
    if (!m) {
      m = new Map();
      bySection.set(e.section, m);
    }
    m.set(e.key, e.value);
  }
  const out: string[] = [];
  for (const [section, kv] of bySection) {
    if (section.startsWith('registry#') && kv.get('insecure') === true) {
      const loc = kv.get('location') ?? kv.get('prefix');
      if (typeof loc === 'string' && loc) out.push(loc);
    }
    if (section === 'registries.insecure') {
      const regs = kv.get('registries');
      if (Array.isArray(regs)) out.push(...regs);
    }
  }
  return out;
}

/** readInsecureRegistries reads the system files; missing files are simply empty. */
export function readInsecureRegistries(conf = REGISTRIES_CONF, confD = REGISTRIES_CONF_D): string[] {
  const files = [conf];
  try {
    files.push(
      ...readdirSync(confD)
        .filter((f) => f.endsWith('.conf'))
        .sort()
        .map((f) => join(confD, f)),
    );
  } catch {
    // no drop-in directory
  }
  const out: string[] = [];
  for (const f of files) {
    try {
      out.push(...insecureFromToml(readFileSync(f, 'utf8')));
    } catch {
      // unreadable or absent: nothing marked insecure there
    }
  }
  return out;
}
