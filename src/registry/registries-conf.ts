/**
 * @module registry/registries-conf
 * Which registries `/etc/containers/registries.conf` (and `registries.conf.d/*.conf`) names
 * insecure: `[[registry]]` tables with `location` (or `prefix`) and `insecure = true`, and the v1
 * form `[registries.insecure] registries = [...]`. The file is TOML, read with smol-toml (a
 * maintained TOML 1.0 parser); a malformed file is an error naming its file, line and column, as
 * podman refuses it too.
 * https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { AppError, errorMessage } from '../errors.js';
import { readTextOrSync } from '../util/fs.js';

export const REGISTRIES_CONF = '/etc/containers/registries.conf';
export const REGISTRIES_CONF_D = '/etc/containers/registries.conf.d';

/** parseToml parses a TOML document; a syntax error is TOML_INVALID at `file:line:column`. */
export function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? e.message;
      throw new AppError('TOML_INVALID', `${file}:${e.line}:${e.column}: ${first}`, {
        cause: e,
        hint: 'fix the file (podman and skopeo refuse it as well), or remove it',
      });
    }
    throw new AppError('TOML_INVALID', `${file}: ${errorMessage(e)}`, { cause: e });
  }
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** insecureFromToml lists the hosts (or host/namespace prefixes) a registries.conf marks insecure. */
export function insecureFromToml(text: string, file = 'registries.conf'): string[] {
  const doc = parseToml(text, file);
  const out: string[] = [];
  const registry = doc.registry;
  for (const r of Array.isArray(registry) ? registry : []) {
    if (!isTable(r) || r.insecure !== true) continue;
    const loc = typeof r.location === 'string' && r.location ? r.location : r.prefix;
    if (typeof loc === 'string' && loc) out.push(loc);
  }
  const v1 = isTable(doc.registries) ? doc.registries.insecure : undefined;
  if (isTable(v1) && Array.isArray(v1.registries)) {
    out.push(...v1.registries.filter((x): x is string => typeof x === 'string'));
  }
  return out;
}

/** readInsecureRegistries reads the system files; a missing file is simply empty. */
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
    const text = readTextOrSync(f, undefined);
    if (text !== undefined) out.push(...insecureFromToml(text, f));
  }
  return out;
}
