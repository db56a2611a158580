/**
 * @module upload/progress-bars
 * Progress bars for a TTY (cli-progress): a total bar and one per image being copied, with bytes,
 * rate and ETA. Separate from ./progress.ts so non-TTY runs never load cli-progress.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Progress } from './progress.js';

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
