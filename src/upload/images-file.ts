/**
 * @module upload/images-file
 * The images file prepare writes (`container_images`, `uploads`): validated with zod, every bad
 * entry reported at once with its file and index, merged across files by `imagename` (first wins,
 * later files only add keys), and turned into source → target copy tasks with TripleO's naming.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError, errorMessage } from '../errors.js';
import { isValidRegistryHost, parseReference, type Reference } from '../oci/reference.js';

/** The undercloud registry when an entry names no push_destination (TripleO's fallback). */
export const DEFAULT_PUSH_DESTINATION = 'localhost:8787';
/** The undercloud registry's port; a destination on it is insecure, as TripleO configured it. */
export const UNDERCLOUD_REGISTRY_PORT = '8787';

const Entry = z
  .object({
    imagename: z.string().min(1, 'imagename is empty'),
    pull_source: z.string().min(1).optional(),
    // Rocky+: `true` means "the undercloud registry".
    push_destination: z.union([z.string().min(1), z.literal(true)]).optional(),
  })
  .passthrough();

const Section = z.array(z.unknown()).nullish();
const FileShape = z.object({ container_images: Section, uploads: Section }).passthrough();

export interface UploadTask {
  /** The entry's imagename as written. */
  imagename: string;
  source: Reference;
  target: Reference;
  /** Where it came from, for messages. */
  origin: string;
}

interface RawEntry {
  data: Record<string, unknown>;
  origin: string;
}

/** targetRepository drops the first path component of the name as written (TripleO's rule). */
export function targetRepository(imagename: string): string {
  const noDigest = imagename.split('@')[0] ?? imagename;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const path = colon > slash ? noDigest.slice(0, colon) : noDigest;
  const first = path.indexOf('/');
  // A one-component name keeps its only component: there is nothing to drop.
  return first < 0 ? path : path.slice(first + 1);
}

/** tasksFromEntries validates, merges and names; throws IMAGES_FILE_INVALID listing every problem. */
export function tasksFromEntries(entries: RawEntry[]): UploadTask[] {
  const problems: string[] = [];
  const merged = new Map<string, RawEntry>();
  for (const e of entries) {
    const parsed = Entry.safeParse(e.data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${e.origin}: ${issue.path.join('.') || 'entry'}: ${issue.message}`);
      }
      continue;
    }
    const prev = merged.get(parsed.data.imagename);
    if (prev) {
      // First occurrence wins for keys it has; later files only add new keys.
      prev.data = { ...e.data, ...prev.data };
    } else merged.set(parsed.data.imagename, { data: { ...e.data }, origin: e.origin });
  }
  const tasks: UploadTask[] = [];
  for (const [imagename, e] of merged) {
    const d = e.data as z.infer<typeof Entry>;
    try {
      const pull = d.pull_source ? `${d.pull_source.replace(/\/+$/, '')}/${imagename}` : imagename;
      const source = parseReference(pull, { defaultTag: 'latest' });
      const dest =
        d.push_destination === true || !d.push_destination ? DEFAULT_PUSH_DESTINATION : d.push_destination;
      const destHost = dest.replace(/\/+$/, '');
      if (!isValidRegistryHost(destHost.split('/')[0] ?? '')) {
        throw new AppError('IMAGES_FILE_INVALID', `push_destination "${dest}" is not a registry host`);
      }
      const target = parseReference(`${destHost}/${targetRepository(imagename)}`);
      const withTag: Reference = { registry: target.registry, repository: target.repository };
      if (source.tag !== undefined) withTag.tag = source.tag;
      else if (source.digest !== undefined) withTag.digest = source.digest;
      tasks.push({ imagename, source, target: withTag, origin: e.origin });
    } catch (err) {
      problems.push(`${e.origin}: ${errorMessage(err)}`);
    }
  }
  if (problems.length > 0) {
    throw new AppError(
      'IMAGES_FILE_INVALID',
      `${problems.length} invalid entr${problems.length === 1 ? 'y' : 'ies'} in the images file:\n  ${problems.join('\n  ')}`,
      { detail: problems },
    );
  }
  return tasks;
}

/** entriesFromText parses one file's YAML into raw entries tagged with file and index. */
export function entriesFromText(path: string, text: string): RawEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new AppError('YAML_INVALID', `${path}: ${errorMessage(e)}`, { cause: e });
  }
  const shape = FileShape.safeParse(doc ?? {});
  if (!shape.success) {
    throw new AppError(
      'IMAGES_FILE_INVALID',
      `${path}: expected a mapping with container_images and/or uploads lists`,
    );
  }
  const out: RawEntry[] = [];
  for (const section of ['container_images', 'uploads'] as const) {
    (shape.data[section] ?? []).forEach((item, i) => {
      const data =
        item && typeof item === 'object' && !Array.isArray(item)
          ? (item as Record<string, unknown>)
          : { imagename: item };
      out.push({ data, origin: `${path}: ${section}[${i}]` });
    });
  }
  return out;
}

/** readImagesFiles reads, validates and merges the files, in order. */
export async function readImagesFiles(paths: string[]): Promise<UploadTask[]> {
  const entries: RawEntry[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (e) {
      throw new AppError('FILE_NOT_FOUND', `No config file exists at: ${p}`, { cause: e });
    }
    entries.push(...entriesFromText(p, text));
  }
  return tasksFromEntries(entries);
}

/** undercloudRegistries lists destinations on the undercloud registry port (treated as insecure). */
export function undercloudRegistries(tasks: UploadTask[]): string[] {
  return [...new Set(tasks.map((t) => t.target.registry))].filter((h) =>
    h.endsWith(`:${UNDERCLOUD_REGISTRY_PORT}`),
  );
}
