/**
 * @module server/range
 * Byte ranges: the `Range` header on blob GET (RFC 9110 §14) and the `Content-Range` header on
 * chunked upload PATCH (the spec's `<start>-<end>`, inclusive). Pure functions.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-a-blob-in-chunks
 */

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * parseRangeHeader reads `bytes=a-b`, `bytes=a-` or `bytes=-n` against a blob of `size` bytes.
 * Returns undefined to serve the whole blob (no header, or several ranges, which RFC 9110 lets a
 * server ignore), 'unsatisfiable' for a well-formed range outside the blob or a malformed header.
 */
export function parseRangeHeader(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!m) return header.startsWith('bytes=') && header.includes(',') ? undefined : 'unsatisfiable';
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** parseContentRange reads an upload chunk's `<start>-<end>` (a `bytes ` or `bytes=` prefix is tolerated). */
export function parseContentRange(header: string): ByteRange | undefined {
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

/** uploadRangeHeader is the `Range` an upload status reports: `0-<last byte>`, and `0-0` when empty (as distribution does). */
export function uploadRangeHeader(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}
