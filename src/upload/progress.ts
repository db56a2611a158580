/**
 * @module upload/progress
 * Progress for people: on a TTY, a total bar and one bar per image being copied (bytes, rate,
 * ETA); otherwise one plain line per finished blob and image. Silent for `--json`.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

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

/** barProgress draws bars on a TTY with cli-progress. */
export function barProgress(): Progress {
  const multi = new MultiBar(
    {
      format: '{bar} {percentage}% | {value_mb}/{total_mb} MB | {rate} MB/s | ETA {eta_formatted} | {name}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  let total: SingleBar | undefined;
  let t0 = Date.now();
  let done = 0;
  const bars = new Map<string, { bar: SingleBar; value: number; total: number }>();
  const payload = (name: string, value: number, of: number) => ({
    name,
    value_mb: (value / 1e6).toFixed(1),
    total_mb: (of / 1e6).toFixed(1),
    rate: (value / 1e6 / Math.max((Date.now() - t0) / 1000, 0.001)).toFixed(1),
  });
  let totalBytes = 0;
  return {
    start(bytes) {
      t0 = Date.now();
      totalBytes = bytes;
      total = multi.create(Math.max(bytes, 1), 0, payload('total', 0, bytes));
    },
    imageStart(name, bytes) {
      if (bytes > 0 && !bars.has(name)) {
        bars.set(name, { bar: multi.create(bytes, 0, payload(name, 0, bytes)), value: 0, total: bytes });
      }
    },
    bytes(name, n) {
      done += n;
      total?.update(done, payload('total', done, totalBytes));
      const b = bars.get(name);
      if (b) {
        b.value += n;
        b.bar.update(b.value, payload(name, b.value, b.total));
      }
    },
    blobDone() {},
    retry(what, attempt, error) {
      multi.log(`retrying ${what} (attempt ${attempt + 1}): ${error}\n`);
    },
    imageDone(name, outcome, detail) {
      const b = bars.get(name);
      if (b) {
        multi.remove(b.bar);
        bars.delete(name);
      }
      if (outcome === 'failed') multi.log(`failed: ${name}: ${detail ?? ''}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
