/**
 * @module registry/image
 * Porcelain for callers that hold a reference string: the image's config (labels), and tags.
 * Prepare's `--tag-from-label` uses these.
 */
import { AppError } from '../errors.js';
import type { Platform } from '../oci/descriptor.js';
import { parseReference, type Reference, referenceTarget } from '../oci/reference.js';
import { CONFIG_MAX_BYTES } from './options.js';
import { hostPlatform, type PlatformFilter, parsePlatform, selectManifests } from './platform.js';
import { RegistrySession, type SessionOptions } from './session.js';

/** ImageConfigFile is the part of an image config the tool reads. */
export interface ImageConfigFile {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    Labels?: Record<string, string> | null;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    User?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
}

export interface ImageLookupOptions extends SessionOptions {
  /** For an index: which platform's config (default: this host's, as podman pull would). */
  platform?: string;
  /** Reuse a session (and its tokens) across many look-ups; it is not closed here. */
  session?: RegistrySession;
}

async function withSession<T>(opts: ImageLookupOptions, f: (s: RegistrySession) => Promise<T>): Promise<T> {
  if (opts.session) return f(opts.session);
  const s = new RegistrySession(opts);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** getImageConfig fetches an image's config blob (for an index, the chosen platform's). */
export async function getImageConfig(
  ref: string | Reference,
  opts: ImageLookupOptions = {},
): Promise<ImageConfigFile> {
  const r = typeof ref === 'string' ? parseReference(ref, { defaultTag: 'latest' }) : ref;
  return withSession(opts, async (s) => {
    const client = s.client(r.registry);
    let m = await client.getManifest(r.repository, referenceTarget(r));
    if (m.kind === 'index') {
      const want: PlatformFilter = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
      const pick = selectManifests(m.manifest.manifests, [want])[0];
      if (!pick) {
        const have = m.manifest.manifests.map((d) => platformName(d.platform)).join(', ');
        throw new AppError(
          'MANIFEST_UNKNOWN',
          `${r.registry}/${r.repository} has no image for ${want.os}/${want.architecture} (it has: ${have})`,
        );
      }
      m = await client.getManifest(r.repository, pick.digest);
      if (m.kind !== 'image') throw new AppError('MANIFEST_INVALID', `nested index in ${r.repository}`);
    }
    const bytes = await client.readBlob(r.repository, m.manifest.config, CONFIG_MAX_BYTES);
    try {
      return JSON.parse(bytes.toString('utf8')) as ImageConfigFile;
    } catch (e) {
      throw new AppError('MANIFEST_INVALID', `config of ${r.registry}/${r.repository} is not JSON`, {
        cause: e,
      });
    }
  });
}

function platformName(p: Platform | undefined): string {
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : 'unknown';
}

/** listTags lists the tags of `registry/namespace/name` (a tag or digest in the string is ignored). */
export async function listTags(repo: string, opts: ImageLookupOptions = {}): Promise<string[]> {
  const r = parseReference(repo);
  return withSession(opts, (s) => s.client(r.registry).listTags(r.repository));
}
