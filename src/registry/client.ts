/**
 * @module registry/client
 * RegistryClient speaks the distribution API to one registry host: manifests, blobs, uploads,
 * mounts, tags and catalog. Each method is one protocol step named after the spec.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 */
import { pipeline, Readable } from 'node:stream';
import { AppError } from '../errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { type Digest, DigestVerifier, isDigest } from '../oci/digest.js';
import { MANIFEST_ACCEPT } from '../oci/media-types.js';
import { CATALOG_SCOPE, pullScope, pushScope } from './auth.js';
import { HoldLast, resumableGet, sendInChunks } from './blob-io.js';
import { readCapped } from './errors.js';
import { type HttpResponse, header, type RegistryHttp } from './http.js';
import { type ParsedManifest, parseManifest, type RawManifest } from './manifest.js';
import {
  CHUNK_BYTES,
  DEFAULT_RETRY,
  MANIFEST_MAX_BYTES,
  MONOLITHIC_MAX_BYTES,
  PAGE_SIZE,
  type RetryOptions,
} from './options.js';

/** An upload session: where to send bytes, or the news that a mount made it unnecessary. */
export type UploadStart = { mounted: true } | { mounted: false; location: URL; minChunk: number };

export interface PushOptions {
  /** Blobs above this go up in PATCH chunks. */
  monolithicMax?: number;
  chunkSize?: number;
}

/** RegistryClient is one registry host. Cheap to create; share one per host per run. */
export class RegistryClient {
  constructor(
    private readonly http: RegistryHttp,
    readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {}

  get host(): string {
    return this.http.host;
  }

  /** ping checks `/v2/` (authenticating if the registry challenges) and returns its response headers. */
  async ping(): Promise<Record<string, string | string[] | undefined>> {
    const res = await this.http.send({ method: 'GET', url: '/v2/', scope: [], ok: [200], what: 'ping' });
    await res.body.dump();
    return res.headers;
  }

  /** getManifest fetches a manifest by tag or digest and checks its digest. */
  async getManifest(repo: string, reference: string): Promise<ParsedManifest> {
    const name = `${this.host}/${repo}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.http.send({
      method: 'GET',
      url: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scope: [pullScope(repo)],
      ok: [200],
      what: `fetching manifest of ${name}`,
    });
    const bytes = await readCapped(res.body, MANIFEST_MAX_BYTES + 1);
    if (bytes.length > MANIFEST_MAX_BYTES) {
      throw new AppError(
        'MANIFEST_INVALID',
        `manifest of ${name} is larger than ${MANIFEST_MAX_BYTES} bytes`,
      );
    }
    // Pinned: check against the pin. By tag: against what the registry says it served.
    const expected = isDigest(reference) ? reference : header(res.headers, 'docker-content-digest');
    return parseManifest(bytes, header(res.headers, 'content-type'), name, expected);
  }

  /** headManifest returns the manifest's descriptor, or undefined when the registry has none. */
  async headManifest(repo: string, reference: string): Promise<Descriptor | undefined> {
    const res = await this.http.send({
      method: 'HEAD',
      url: `/v2/${repo}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      scope: [pullScope(repo)],
      ok: [200, 404],
    });
    await res.body.dump();
    const digest = header(res.headers, 'docker-content-digest');
    if (res.status === 404 || !digest || !isDigest(digest)) return undefined;
    return {
      mediaType: header(res.headers, 'content-type') ?? '',
      digest,
      size: Number(header(res.headers, 'content-length') ?? 0),
    };
  }

  /** putManifest stores the exact bytes under a tag or digest; the registry checks the blobs exist. */
  async putManifest(repo: string, reference: string, raw: RawManifest): Promise<void> {
    const res = await this.http.send({
      method: 'PUT',
      url: `/v2/${repo}/manifests/${reference}`,
      headers: { 'content-type': raw.mediaType },
      body: raw.bytes,
      scope: [pushScope(repo)],
      ok: [201],
      what: `pushing manifest ${raw.digest} to ${this.host}/${repo}:${reference}`,
    });
    await res.body.dump();
    const got = header(res.headers, 'docker-content-digest');
    if (got && got !== raw.digest) {
      throw new AppError(
        'DIGEST_MISMATCH',
        `${this.host}/${repo}: stored manifest as ${got}, sent ${raw.digest}`,
      );
    }
  }

  /** blobExists HEADs a blob; a size that differs from the descriptor's counts as absent. */
  async blobExists(repo: string, desc: Descriptor): Promise<boolean> {
    const res = await this.http.send({
      method: 'HEAD',
      url: `/v2/${repo}/blobs/${desc.digest}`,
      scope: [pullScope(repo)],
      ok: [200, 404],
    });
    await res.body.dump();
    if (res.status !== 200) return false;
    const len = header(res.headers, 'content-length');
    return len === undefined || Number(len) === desc.size;
  }

  /**
   * blobReader streams a blob, verified while it flows: a wrong byte or length fails the stream
   * at its end (DIGEST_MISMATCH / SIZE_MISMATCH) and the last chunk is never released.
   */
  blobReader(repo: string, desc: Descriptor, what: string, onBytes?: (n: number) => void): Readable {
    return pipeline(
      this.blobBytes(repo, desc, what, onBytes),
      new DigestVerifier(desc.digest, desc.size, what),
      new HoldLast(),
      () => {},
    ) as unknown as Readable;
  }

  /**
   * blobRange streams bytes [start, end] of a blob, resuming a broken download with Range. Not
   * verified on its own: a caller reading a blob in ranges hashes them in order (copyBlobChunked).
   */
  blobRange(repo: string, desc: Descriptor, start: number, end: number, what: string): Readable {
    return Readable.from(this.blobBytes(repo, desc, what, undefined, { start, end }), { objectMode: false });
  }

  /** blobBytes is the GET of a blob (or a range of it) that resumes where a broken download stopped. */
  private blobBytes(
    repo: string,
    desc: Descriptor,
    what: string,
    onBytes?: (n: number) => void,
    range?: { start: number; end: number },
  ): AsyncGenerator<Buffer> {
    return resumableGet(
      (req) => this.http.send(req),
      {
        method: 'GET',
        url: `/v2/${repo}/blobs/${desc.digest}`,
        scope: [pullScope(repo)],
        ok: [200, 206],
        what: `fetching ${what}`,
      },
      this.retry,
      onBytes,
      range,
    );
  }

  /** readBlob reads a small blob (a config) into memory, verified. */
  async readBlob(repo: string, desc: Descriptor, max: number): Promise<Buffer> {
    if (desc.size > max) {
      throw new AppError(
        'SIZE_INVALID',
        `${this.host}/${repo}: blob ${desc.digest} is larger than ${max} bytes`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const c of this.blobReader(repo, desc, `blob ${desc.digest} of ${this.host}/${repo}`)) {
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /**
   * startUpload opens an upload session (POST). With `mount`, asks the registry to link the blob
   * from another repository instead: 201 means done, 202 means it opened a session after all.
   */
  async startUpload(repo: string, mount?: { digest: Digest; from: string }): Promise<UploadStart> {
    const q = mount
      ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`
      : '';
    const scope = [pushScope(repo), ...(mount ? [pullScope(mount.from)] : [])];
    const res = await this.http.send({
      method: 'POST',
      url: `/v2/${repo}/blobs/uploads/${q}`,
      headers: { 'content-length': '0' },
      scope,
      ok: [201, 202],
      what: mount
        ? `mounting ${mount.digest} into ${this.host}/${repo}`
        : `starting upload to ${this.host}/${repo}`,
    });
    await res.body.dump();
    if (res.status === 201) return { mounted: true };
    return {
      mounted: false,
      location: location(res),
      minChunk: Number(header(res.headers, 'oci-chunk-min-length') ?? 0),
    };
  }

  /** mountBlob links a blob from another repository of this registry; false if the registry declined. */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    const s = await this.startUpload(repo, { digest, from });
    if (s.mounted) return true;
    await this.cancelUpload(repo, s.location);
    return false;
  }

  /** cancelUpload deletes an upload session we will not use (best effort: it expires anyway). */
  async cancelUpload(repo: string, loc: URL): Promise<void> {
    try {
      const res = await this.http.send({
        method: 'DELETE',
        url: loc,
        scope: [pushScope(repo)],
        ok: [204, 404],
      });
      await res.body.dump();
    } catch {
      // Registries purge abandoned sessions; failing to cancel one is not worth failing a copy.
    }
  }

  /**
   * pushBlob streams `body` (exactly `desc.size` bytes) into an upload session: one PUT for blobs
   * up to `monolithicMax`, PATCH chunks then an empty PUT for larger ones. Sent once: a failure
   * leaves the session unused and the caller retries with a fresh stream.
   */
  async pushBlob(repo: string, desc: Descriptor, body: Readable, opts: PushOptions = {}): Promise<void> {
    const what = `pushing blob ${desc.digest} to ${this.host}/${repo}`;
    const firstError = captureError(body);
    try {
      const start = await this.startUpload(repo);
      if (start.mounted) throw new AppError('INTERNAL', 'registry mounted a blob nobody asked to mount');
      if (desc.size <= (opts.monolithicMax ?? MONOLITHIC_MAX_BYTES)) {
        const url = withDigest(start.location, desc.digest);
        const res = await this.http.send({
          method: 'PUT',
          url,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
          body,
          scope: [pushScope(repo)],
          ok: [201],
          what,
        });
        await res.body.dump();
        return;
      }
      let loc = start.location;
      const chunk = Math.max(opts.chunkSize ?? CHUNK_BYTES, start.minChunk);
      await sendInChunks(body, desc.size, chunk, async (part, offset, length) => {
        loc = await this.patchChunk(repo, loc, part, offset, length, what);
      });
      await this.commitUpload(repo, loc, desc.digest, what);
    } catch (e) {
      // Stop the source download: an unread stream would hold its connection open for good.
      body.destroy();
      // A failing source (digest mismatch, broken download) is the real reason, not the aborted PUT.
      throw firstError() ?? e;
    }
  }

  /** patchChunk appends `length` bytes at `offset` to an upload session; returns its next location. */
  async patchChunk(
    repo: string,
    loc: URL,
    body: Readable,
    offset: number,
    length: number,
    what: string,
  ): Promise<URL> {
    const res = await this.http.send({
      method: 'PATCH',
      url: loc,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${offset}-${offset + length - 1}`,
      },
      body,
      scope: [pushScope(repo)],
      ok: [202],
      what,
    });
    await res.body.dump();
    return location(res);
  }

  /** commitUpload closes an upload session under its digest (PUT with no body); the registry verifies it. */
  async commitUpload(repo: string, loc: URL, digest: Digest, what: string): Promise<void> {
    const res = await this.http.send({
      method: 'PUT',
      url: withDigest(loc, digest),
      headers: { 'content-length': '0' },
      scope: [pushScope(repo)],
      ok: [201],
      what,
    });
    await res.body.dump();
  }

  /**
   * uploadOffset asks an upload session how many bytes it holds (GET, `Range: 0-N`), and where to
   * send the next ones; undefined when the registry no longer knows the session.
   */
  async uploadOffset(repo: string, loc: URL): Promise<{ offset: number; location: URL } | undefined> {
    const res = await this.http.send({
      method: 'GET',
      url: loc,
      scope: [pushScope(repo)],
      ok: [204, 404],
      what: `asking ${this.host}/${repo} for an upload's progress`,
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    // `0-N` means N+1 bytes held; distribution (and the spec's examples) also say `0-0` for an empty
    // session, so 0-0 is read as empty: resending one byte is harmless, skipping one is not.
    const end = Number(/^(?:bytes=)?0-(\d+)$/.exec(header(res.headers, 'range') ?? '')?.[1] ?? 0);
    return { offset: end > 0 ? end + 1 : 0, location: header(res.headers, 'location') ? location(res) : loc };
  }

  /** listTags lists a repository's tags, following `Link` pages. */
  async listTags(repo: string, pageSize = PAGE_SIZE): Promise<string[]> {
    return this.paged(
      `/v2/${repo}/tags/list?n=${pageSize}`,
      [pullScope(repo)],
      'tags',
      `listing tags of ${this.host}/${repo}`,
    );
  }

  /** catalog lists the registry's repositories, following `Link` pages. */
  async catalog(pageSize = PAGE_SIZE): Promise<string[]> {
    return this.paged(`/v2/_catalog?n=${pageSize}`, [CATALOG_SCOPE], 'repositories', `listing ${this.host}`);
  }

  private async paged(
    first: string,
    scope: string[],
    key: 'tags' | 'repositories',
    what: string,
  ): Promise<string[]> {
    const out: string[] = [];
    let next: string | URL | undefined = first;
    for (let page = 0; next && page < 10_000; page++) {
      const res: HttpResponse = await this.http.send({ method: 'GET', url: next, scope, ok: [200], what });
      const text = (await readCapped(res.body, MANIFEST_MAX_BYTES)).toString('utf8');
      let parsed: Partial<Record<typeof key, string[] | null>>;
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch (e) {
        throw new AppError('REGISTRY_HTTP', `${what}: invalid JSON`, { cause: e });
      }
      out.push(...(parsed[key] ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res.headers, 'link') ?? '');
      next = link?.[1] ? new URL(link[1], res.url) : undefined;
    }
    return out;
  }
}

function location(res: HttpResponse): URL {
  const loc = header(res.headers, 'location');
  if (!loc) throw new AppError('BLOB_UPLOAD_INVALID', `${res.url.host}: upload response without Location`);
  return new URL(loc, res.url);
}

function withDigest(loc: URL, digest: Digest): URL {
  const u = new URL(loc);
  u.searchParams.set('digest', digest);
  return u;
}

/** captureError remembers the first error a stream emits (the stream may be destroyed later). */
function captureError(s: Readable): () => unknown {
  let first: unknown;
  s.on('error', (e) => {
    first ??= e;
  });
  return () => first;
}
