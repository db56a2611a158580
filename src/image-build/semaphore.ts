/**
 * @module image-build/semaphore
 * A counting semaphore whose waiters are served highest priority first (ties: first come). Builds
 * wait for their parent first and only then for a slot, so a slot is never held by an image that
 * cannot start yet (which mapLimit's fixed worker pool would allow), and the image on the longest
 * remaining path starts first.
 */
interface Waiter {
  priority: number;
  seq: number;
  wake: () => void;
}

export class Semaphore {
  private free: number;
  private seq = 0;
  private readonly waiting: Waiter[] = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** acquire resolves with a release function once a slot is free. */
  async acquire(priority = 0): Promise<() => void> {
    if (this.free > 0) this.free--;
    else {
      await new Promise<void>((wake) => {
        this.waiting.push({ priority, seq: this.seq++, wake });
        this.waiting.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.wake();
      else this.free++;
    };
  }
}
