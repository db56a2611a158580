/**
 * @module upload/progress
 * Progress for people: on a TTY, a total bar and one bar per image being copied (bytes, rate,
 * ETA; in ./progress-bars.ts); otherwise one plain line per finished blob and image. Silent for `--json`.
 */
export interface Progress {
  start(totalBytes: number): void;
  /** An image's transfers begin (`bytes` it will move itself). */
  imageStart(name: string, bytes: number): void;
  bytes(name: string, n: number): void;
  blobDone(name: string, digest: string, size: number, how: 'copied' | 'mounted'): void;
  retry(what: string, attempt: number, error: string, waitMs: number): void;
  imageDone(name: string, outcome: 'copied' | 'present' | 'failed', detail?: string): void;
  stop(): void;
}

export const silentProgress: Progress = {
  start() {},
  imageStart() {},
  bytes() {},
  blobDone() {},
  retry() {},
  imageDone() {},
  stop() {},
};

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** lineProgress writes one line per event (logs, CI, pipes). */
export function lineProgress(out: NodeJS.WritableStream = process.stderr): Progress {
  let t0 = Date.now();
  let done = 0;
  return {
    start(total) {
      t0 = Date.now();
      out.write(`upload: ${mb(total)} to transfer\n`);
    },
    imageStart() {},
    bytes(_n, n) {
      done += n;
    },
    blobDone(name, digest, size, how) {
      const s = (Date.now() - t0) / 1000;
      out.write(
        `${how} ${digest.slice(0, 19)} (${mb(size)}) for ${name} [${mb(done)} in ${s.toFixed(1)} s]\n`,
      );
    },
    retry(what, attempt, error, waitMs) {
      out.write(`retrying ${what} (attempt ${attempt + 1}) in ${Math.round(waitMs)} ms: ${error}\n`);
    },
    imageDone(name, outcome, detail) {
      out.write(`${outcome}: ${name}${detail ? `: ${detail}` : ''}\n`);
    },
    stop() {},
  };
}
