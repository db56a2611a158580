/**
 * @module upload/layout-source
 * An OCI image layout (image-spec layout.md: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as an
 * upload source. References are the index entries' `org.opencontainers.image.ref.name`
 * annotations (what `podman save --format oci-dir` and `skopeo copy ... oci:DIR:REF` write) or
 * manifest digests. Blobs stream from their files through the same digest and size check as a
 * registry download, so a damaged export never reaches a registry.
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { AppError, errorMessage } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, DigestVerifier, digestAlgorithm, digestHex, isDigest } from '../oci/digest.js';
import { HoldLast, type ParsedManifest, parseManifest, registryOptions } from '../registry/index.js';
import type { BlobSource, ImageSource } from './source.js';

/** The index annotation naming an image in a layout. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

export class OciLayoutSource implements ImageSource {
  readonly name: string;

  private constructor(
    readonly dir: string,
    /** the index's entries, in file order */
    readonly entries: readonly Descriptor[],
  ) {
    this.name = `oci:${dir}`;
  }

  /** open reads `oci-layout` and `index.json`; a folder that is not a layout is LAYOUT_INVALID. */
  static async open(dir: string): Promise<OciLayoutSource> {
    const marker = await readJson(join(dir, 'oci-layout'), `oci:${dir}`);
    if ((marker as { imageLayoutVersion?: unknown }).imageLayoutVersion !== '1.0.0') {
      throw new AppError(
        'LAYOUT_INVALID',
        `oci:${dir}: oci-layout does not declare imageLayoutVersion 1.0.0`,
      );
    }
    const index = (await readJson(join(dir, 'index.json'), `oci:${dir}`)) as { manifests?: unknown };
    if (!Array.isArray(index.manifests)) {
      throw new AppError('LAYOUT_INVALID', `oci:${dir}: index.json has no manifests list`);
    }
    const entries = index.manifests as Descriptor[];
    for (const d of entries) checkDescriptor(d, `oci:${dir}: index.json`);
    return new OciLayoutSource(dir, entries);
  }

  /** blobsAt reads only blobs from the layout at `dir` (what an upload plan's layout source needs). */
  static blobsAt(dir: string): BlobSource {
    return new OciLayoutSource(dir, []);
  }

  /** refNames lists the names the index gives its images. */
  refNames(): string[] {
    return this.entries.flatMap((d) => (d.annotations?.[REF_NAME] ? [d.annotations[REF_NAME]] : []));
  }

  /** find returns the index entry of a ref name or digest (the last one written wins, as in podman). */
  find(reference: string): Descriptor | undefined {
    const matches = this.entries.filter((d) =>
      isDigest(reference) ? d.digest === reference : d.annotations?.[REF_NAME] === reference,
    );
    return matches.at(-1);
  }

  async manifest(reference: string): Promise<ParsedManifest> {
    const what = `${this.name}:${reference}`;
    // A digest may also name a manifest the index reaches only through an image index.
    const desc = this.find(reference);
    if (desc === undefined && !isDigest(reference)) {
      throw new AppError('MANIFEST_UNKNOWN', `${what}: no image of that name in the layout`, {
        hint: `names in it: ${this.refNames().join(', ') || '(none)'}`,
      });
    }
    const digest = desc?.digest ?? (reference as Digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(digest));
    } catch (e) {
      throw new AppError(
        'MANIFEST_UNKNOWN',
        `${what}: manifest blob ${digest} is missing: ${errorMessage(e)}`,
      );
    }
    const max = registryOptions.MANIFEST_MAX_BYTES;
    if (bytes.length > max) {
      throw new AppError('MANIFEST_INVALID', `${what}: manifest ${digest} is larger than ${max} bytes`);
    }
    if (desc !== undefined && bytes.length !== desc.size) {
      throw new AppError(
        'SIZE_MISMATCH',
        `${what}: manifest ${digest} has ${bytes.length} bytes, index.json says ${desc.size}`,
      );
    }
    return parseManifest(bytes, desc?.mediaType, what, digest);
  }

  blob(desc: Descriptor, onBytes?: (n: number) => void): Readable {
    const what = `blob ${desc.digest} of ${this.name}`;
    const file = createReadStream(this.blobPath(desc.digest), { highWaterMark: 1024 * 1024 });
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    return pipeline(
      file,
      count,
      new DigestVerifier(desc.digest, desc.size, what),
      new HoldLast(),
      () => {},
    ) as unknown as Readable;
  }

  /** blobPath is where the layout keeps a blob; the digest is validated, so it cannot leave the folder. */
  blobPath(digest: Digest): string {
    if (!isDigest(digest)) throw new AppError('DIGEST_INVALID', `${this.name}: invalid digest "${digest}"`);
    return join(this.dir, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AppError('LAYOUT_INVALID', `${what} is not an OCI image layout: ${errorMessage(e)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError('LAYOUT_INVALID', `${what}: ${path} is not valid JSON`, { cause: e });
  }
}

function checkDescriptor(d: Descriptor, what: string): void {
  if (typeof d?.digest !== 'string' || !isDigest(d.digest)) {
    throw new AppError('LAYOUT_INVALID', `${what}: invalid digest "${String(d?.digest)}"`);
  }
  if (!Number.isSafeInteger(d.size) || d.size < 0) {
    throw new AppError('LAYOUT_INVALID', `${what}: ${d.digest} has an invalid size`);
  }
}
