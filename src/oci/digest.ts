/**
 * @module oci/digest
 * Content digests (`sha256:<64 hex>`), parsed once at the boundary and verified on every byte stream.
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../errors.js';

/** A validated digest string such as `sha256:e3b0...`. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST_RE = /^(sha256|sha512):([a-f0-9]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** parseDigest checks algorithm, hex alphabet and length; anything else is DIGEST_INVALID. */
export function parseDigest(value: string, what = 'digest'): Digest {
  const m = DIGEST_RE.exec(value);
  if (!m || m[2]?.length !== HEX_LENGTH[m[1] ?? '']) {
    throw new AppError('DIGEST_INVALID', `invalid ${what} "${value}": expected sha256:<64 hex digits>`);
  }
  return value as Digest;
}

/** isDigest tells whether a string is a well-formed digest, without throwing. */
export function isDigest(value: string): value is Digest {
  const m = DIGEST_RE.exec(value);
  return m !== null && m[2]?.length === HEX_LENGTH[m[1] ?? ''];
}

/** digestAlgorithm returns `sha256` or `sha512`. */
export function digestAlgorithm(d: Digest): 'sha256' | 'sha512' {
  return d.slice(0, d.indexOf(':')) as 'sha256' | 'sha512';
}

/** digestHex returns the hex part of a digest. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

/** sha256Of digests an in-memory buffer (manifests and configs; never layers). */
export function sha256Of(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/**
 * DigestVerifier is a pass-through stream that hashes what flows and, at the end, fails with
 * DIGEST_MISMATCH (or SIZE_MISMATCH) instead of letting a corrupt stream finish cleanly.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private seen = 0;

  constructor(
    readonly expected: Digest,
    readonly expectedSize: number | undefined,
    private readonly what: string = expected,
  ) {
    super();
    this.hash = createHash(digestAlgorithm(expected));
  }

  get bytes(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.expectedSize !== undefined && this.seen > this.expectedSize) {
      done(
        new AppError(
          'SIZE_MISMATCH',
          `${this.what}: more than the declared ${this.expectedSize} bytes arrived`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expectedSize !== undefined && this.seen !== this.expectedSize) {
      done(
        new AppError(
          'SIZE_MISMATCH',
          `${this.what}: ${this.seen} bytes arrived, ${this.expectedSize} were declared`,
        ),
      );
      return;
    }
    const actual = `${digestAlgorithm(this.expected)}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      done(
        new AppError(
          'DIGEST_MISMATCH',
          `${this.what}: content digest is ${actual}, expected ${this.expected}`,
        ),
      );
      return;
    }
    done();
  }
}
