/**
 * @module upload/inspect
 * What `container image show` prints: the manifest, and per platform the layers, sizes and labels.
 */
import { AppError } from '../errors.js';
import { platformString } from '../oci/descriptor.js';
import { formatReference, type Reference, referenceTarget } from '../oci/reference.js';
import {
  getImageConfig,
  type PlatformFilter,
  type RegistrySession,
  selectManifests,
} from '../registry/index.js';

export interface PlatformInfo {
  platform: string;
  digest: string;
  mediaType: string;
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
  size: number;
  labels: Record<string, string>;
  created?: string;
}

export interface ImageInfo {
  name: string;
  digest: string;
  mediaType: string;
  images: PlatformInfo[];
}

/** imageInfo reads an image (every platform of an index, or the one asked for). */
export async function imageInfo(
  session: RegistrySession,
  ref: Reference,
  platform?: PlatformFilter,
): Promise<ImageInfo> {
  const client = session.client(ref.registry);
  const root = await client.getManifest(ref.repository, referenceTarget(ref));
  const name = formatReference(ref);
  const children =
    root.kind === 'index'
      ? selectManifests(root.manifest.manifests, platform ? [platform] : []).map((d) => ({
          digest: d.digest,
          platform: platformString(d.platform),
        }))
      : [{ digest: root.raw.digest, platform: '' }];
  if (children.length === 0)
    throw new AppError('MANIFEST_UNKNOWN', `${name} has no image for the platform asked for`);
  const images: PlatformInfo[] = [];
  for (const c of children) {
    const m = c.digest === root.raw.digest ? root : await client.getManifest(ref.repository, c.digest);
    if (m.kind !== 'image') throw new AppError('MANIFEST_UNSUPPORTED', `${name}: nested index ${c.digest}`);
    const cfg = await getImageConfig({ ...ref, digest: m.raw.digest }, { session });
    const layers = m.manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
    images.push({
      platform: c.platform || [cfg.os, cfg.architecture, cfg.variant].filter(Boolean).join('/'),
      digest: m.raw.digest,
      mediaType: m.raw.mediaType,
      config: { digest: m.manifest.config.digest, size: m.manifest.config.size },
      layers,
      size: m.manifest.config.size + layers.reduce((s, l) => s + l.size, 0),
      labels: cfg.config?.Labels ?? {},
      ...(cfg.created ? { created: cfg.created } : {}),
    });
  }
  return { name, digest: root.raw.digest, mediaType: root.raw.mediaType, images };
}

/** describeImageInfo renders ImageInfo for people. */
export function describeImageInfo(info: ImageInfo): string {
  const lines = [`Name:       ${info.name}`, `Digest:     ${info.digest}`, `MediaType:  ${info.mediaType}`];
  for (const i of info.images) {
    lines.push('', `Platform:   ${i.platform}  (${i.digest})`, `Size:       ${i.size} bytes`);
    if (i.created) lines.push(`Created:    ${i.created}`);
    lines.push(`Config:     ${i.config.digest} (${i.config.size} bytes)`, 'Layers:');
    for (const l of i.layers) lines.push(`  ${l.digest}  ${String(l.size).padStart(12)}  ${l.mediaType}`);
    const labels = Object.entries(i.labels);
    lines.push(labels.length ? 'Labels:' : 'Labels:     (none)');
    for (const [k, v] of labels.sort()) lines.push(`  ${k}=${v}`);
  }
  return `${lines.join('\n')}\n`;
}
