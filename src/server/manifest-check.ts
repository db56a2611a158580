/**
 * @module server/manifest-check
 * What the server checks in a pushed manifest before storing it, as a pure function: it parses,
 * its media type agrees with the Content-Type, its descriptors are well formed, and it names the
 * blobs and child manifests that must already be in the repository.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-manifests
 */
import type { Descriptor } from '../oci/descriptor.js';
import { isDigest } from '../oci/digest.js';
import {
  IMAGE_MANIFEST_TYPES,
  INDEX_MANIFEST_TYPES,
  isIndexType,
  MediaType,
  SCHEMA1_TYPES,
} from '../oci/media-types.js';
import { badRequest, RegistryHttpError } from './errors.js';

export interface CheckedManifest {
  mediaType: string;
  /** Blobs (config and layers) that must be linked to the repository. */
  blobs: Descriptor[];
  /** Manifests (index children) that must exist in the repository. */
  manifests: Descriptor[];
  subject: Descriptor | undefined;
  /** The referrers API's artifactType: the manifest's own, else (for images) the config's media type. */
  artifactType: string | undefined;
  annotations: Record<string, string> | undefined;
}

const invalid = (message: string, detail?: unknown): RegistryHttpError =>
  badRequest('MANIFEST_INVALID', message, detail);

/** The media type of a Content-Type header, without parameters. */
export function baseMediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t === '' ? undefined : t;
}

/** RFC 6838 `type/subtype`, as the image spec requires of every mediaType and artifactType. */
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** checkAnnotations: absent, or an object of string values (image spec: "string-string map"). */
function checkAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(`${where}.annotations must be an object of strings`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`${where}.annotations["${k.slice(0, 64)}"] must be a string`);
  }
  return value as Record<string, string>;
}

function checkMediaTypeField(value: unknown, where: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || !MEDIA_TYPE_RE.test(value))
    throw invalid(`${where} must be a media type (type/subtype)`);
}

function checkPlatform(value: unknown, where: string): void {
  if (value === undefined) return;
  const p = value as Record<string, unknown>;
  if (!isObject(value) || typeof p.architecture !== 'string' || typeof p.os !== 'string')
    throw invalid(`${where}.platform needs architecture and os strings`);
  for (const k of ['variant', 'os.version'])
    if (p[k] !== undefined && typeof p[k] !== 'string')
      throw invalid(`${where}.platform.${k} must be a string`);
  const features = p['os.features'];
  if (features !== undefined && !(Array.isArray(features) && features.every((f) => typeof f === 'string')))
    throw invalid(`${where}.platform.os.features must be an array of strings`);
}

/** checkDescriptor checks one descriptor as the image spec defines it; messages name the field, never echo it. */
function checkDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} is not a valid descriptor: not an object`);
  const d = value;
  checkMediaTypeField(d.mediaType, `${where}.mediaType`, true);
  if (typeof d.digest !== 'string' || !isDigest(d.digest))
    throw invalid(`${where}.digest is not a valid digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw invalid(`${where}.size must be a non-negative integer`);
  if (d.urls !== undefined && !(Array.isArray(d.urls) && d.urls.every((u) => typeof u === 'string')))
    throw invalid(`${where}.urls must be an array of strings`);
  checkAnnotations(d.annotations, where);
  checkMediaTypeField(d.artifactType, `${where}.artifactType`, false);
  if (d.data !== undefined && !(typeof d.data === 'string' && BASE64_RE.test(d.data)))
    throw invalid(`${where}.data must be base64`);
  checkPlatform(d.platform, where);
  return d as unknown as Descriptor;
}

/** Layers that live elsewhere (Windows base layers): distribution does not require them locally. */
function isForeign(d: Descriptor): boolean {
  return d.mediaType === MediaType.dockerForeignLayer || (d.urls !== undefined && d.urls.length > 0);
}

/** checkManifest parses and checks a manifest body pushed with the given Content-Type. */
export function checkManifest(body: Buffer, contentType: string | undefined): CheckedManifest {
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw invalid('manifest is not a JSON object');
    doc = parsed as Record<string, unknown>;
  } catch {
    throw invalid('manifest is not a JSON object');
  }
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const header = baseMediaType(contentType);
  if (declared !== undefined && header !== undefined && header !== declared) {
    throw invalid('manifest mediaType does not match the Content-Type', {
      mediaType: declared,
      contentType: header,
    });
  }
  const mediaType = declared ?? header;
  if (mediaType !== undefined && SCHEMA1_TYPES.includes(mediaType)) {
    throw new RegistryHttpError(400, 'MANIFEST_INVALID', 'Docker schema 1 manifests are not supported');
  }
  if (mediaType === undefined || ![...IMAGE_MANIFEST_TYPES, ...INDEX_MANIFEST_TYPES].includes(mediaType)) {
    throw invalid('unsupported manifest media type', { mediaType });
  }
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const subject = doc.subject === undefined ? undefined : checkDescriptor(doc.subject, 'subject');
  const annotations = checkAnnotations(doc.annotations, 'manifest');
  checkMediaTypeField(doc.artifactType, 'artifactType', false);
  const ownType = typeof doc.artifactType === 'string' ? doc.artifactType : undefined;
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw invalid('an index needs a manifests array');
    const manifests = doc.manifests.map((d, i) => checkDescriptor(d, `manifests[${i}]`));
    return { mediaType, blobs: [], manifests, subject, artifactType: ownType, annotations };
  }
  const config = checkDescriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) throw invalid('an image manifest needs a layers array');
  const layers = doc.layers.map((d, i) => checkDescriptor(d, `layers[${i}]`));
  return {
    mediaType,
    blobs: [config, ...layers.filter((l) => !isForeign(l))],
    manifests: [],
    subject,
    artifactType: ownType ?? config.mediaType,
    annotations,
  };
}
