/**
 * @module server/storage/body-cache
 * A byte-bounded cache of immutable bodies by digest (manifests), oldest out first.
 */

export class BodyCache {
  private readonly bodies = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly limit: number) {}

  get(digest: string): Buffer | undefined {
    return this.bodies.get(digest);
  }

  /** set remembers a body, then drops the oldest entries (a Map iterates in insertion order) past the limit. */
  set(digest: string, body: Buffer): void {
    if (this.bodies.has(digest)) return;
    this.bodies.set(digest, body);
    this.bytes += body.length;
    for (const [k, v] of this.bodies) {
      if (this.bytes <= this.limit) break;
      this.bodies.delete(k);
      this.bytes -= v.length;
    }
  }
}
