/**
 * @module deploy/passwords
 * Secrets generated once per deployment, as TripleO's plan did: hidden parameters without a value get
 * a random password, stored in a 0600 YAML file that later deploys reuse (so a re-deploy changes no
 * password and restarts nothing).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readTextOr } from '../util/fs.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** generatePassword makes a 25-character alphanumeric secret (TripleO's length). */
export function generatePassword(bytes: (n: number) => Buffer = randomBytes): string {
  // Rejection sampling keeps every character equally likely.
  let out = '';
  while (out.length < 25) {
    for (const b of bytes(32)) if (b < 248 && out.length < 25) out += ALPHABET[b % ALPHABET.length];
  }
  return out;
}

async function readPasswords(path: string): Promise<Record<string, string>> {
  const text = await readTextOr(path, undefined);
  if (text === undefined) return {};
  const doc = parse(text) as unknown;
  const values = (doc as { parameter_defaults?: unknown } | null)?.parameter_defaults;
  if (typeof values !== 'object' || values === null)
    throw new AppError('ENV_INVALID', `${path}: expected parameter_defaults: {Name: password, ...}`);
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/**
 * ensurePasswords returns the stored passwords plus new ones for `needed` names that have none. With
 * write=false (dry run) new ones are placeholders and nothing is written.
 */
export async function ensurePasswords(
  path: string,
  needed: string[],
  write: boolean,
): Promise<{ passwords: Record<string, string>; generated: string[] }> {
  const passwords = await readPasswords(path);
  const generated = needed.filter((n) => !(n in passwords));
  for (const n of generated) passwords[n] = write ? generatePassword() : '<generated at deploy>';
  if (write && generated.length > 0) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const sorted = Object.fromEntries(Object.entries(passwords).sort(([a], [b]) => a.localeCompare(b)));
    const text = `# Generated once per deployment by overcloud deploy; keep it secret. An environment file\n# (-e) can override any of these.\n${stringify({ parameter_defaults: sorted })}`;
    await writeFileAtomic(path, text, { mode: 0o600 });
  }
  return { passwords, generated };
}
