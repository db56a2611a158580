/**
 * @module cli/commands/image-guest
 * `overcloud image build-guest` (the guest disk image for Glance) and `overcloud image
 * detect-virt-type` (kvm or qemu, by a test boot). The libraries load only when a command runs.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import { DEFAULT_CACHE_DIR } from '../../image-build/defaults.js';

interface BuildGuestFlags {
  output?: string;
  format: string;
  recipe?: string;
  cacheDir: string;
}

async function buildGuest(flags: BuildGuestFlags): Promise<void> {
  if (flags.format !== 'raw' && flags.format !== 'qcow2')
    throw new AppError('USAGE', `--format must be raw or qcow2, not ${JSON.stringify(flags.format)}`);
  const { buildGuestImage } = await import('../../image-build/guest/build.js');
  const r = await buildGuestImage({
    cacheDir: flags.cacheDir,
    recipePath: flags.recipe,
    outputDir: flags.output,
    format: flags.format,
    log: (line) => process.stderr.write(`overcloud image build-guest: ${line}\n`),
  });
  const mib = (r.bytes / 1048576).toFixed(1);
  process.stdout.write(
    `${r.cached ? 'unchanged' : 'built'} ${r.output ?? r.image} (${flags.format}, ${mib} MiB, sha256 ${r.sha256}) in ${r.seconds.toFixed(1)} s\n`,
  );
}

interface DetectFlags {
  timeout: string;
  device: string;
  cacheDir: string;
}

async function detect(flags: DetectFlags): Promise<void> {
  const seconds = Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new AppError('USAGE', '--timeout must be a positive number of seconds');
  const [{ buildGuestImage }, { detectVirtType }] = await Promise.all([
    import('../../image-build/guest/build.js'),
    import('../../image-build/guest/virt-type.js'),
  ]);
  const say = (line: string): void => {
    process.stderr.write(`overcloud image detect-virt-type: ${line}\n`);
  };
  const guest = await buildGuestImage({ cacheDir: flags.cacheDir, format: 'raw', log: say });
  const d = await detectVirtType(
    { kernel: guest.kernel, initramfs: guest.initramfs, timeoutMs: seconds * 1000 },
    flags.device,
  );
  say(`${d.virtType}: ${d.reason}`);
  process.stdout.write(`${d.virtType}\n`);
}

/** registerImageGuest adds `build-guest` and `detect-virt-type` under `overcloud image`. */
export function registerImageGuest(image: Command): void {
  image
    .command('build-guest')
    .description(
      "build the guest disk image (Debian kernel, busybox, dropbear) for Glance, from Debian's packages",
    )
    .option('--output <dir>', 'copy the image into this folder as overcloud-guest.<format>')
    .option('--format <format>', 'raw or qcow2 (the disk format to give Glance)', 'qcow2')
    .option('--recipe <file>', 'guest recipe (default: the shipped templates/guest/guest.yaml)')
    .option('--cache-dir <dir>', 'build cache (the guest build uses <dir>/guest)', DEFAULT_CACHE_DIR)
    .exitOverride()
    .action(buildGuest);
  image
    .command('detect-virt-type')
    .description(
      'print kvm or qemu: kvm only if a test boot of the guest kernel with -accel kvm reaches userland',
    )
    .option('--timeout <seconds>', 'how long the kvm test boot may take', '10')
    .option('--device <path>', 'the KVM device', '/dev/kvm')
    .option('--cache-dir <dir>', 'build cache of the guest image it boots', DEFAULT_CACHE_DIR)
    .exitOverride()
    .action(detect);
}
