/**
 * @module build/semaphore
 * A counting semaphore: builds wait for their parent first and only then for a slot, so a slot is
 * never held by an image that cannot start yet (which mapLimit's fixed worker pool would allow).
 */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** acquire resolves with a release function once a slot is free. */
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
