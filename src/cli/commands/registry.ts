/**
 * @module cli/commands/registry
 * `overcloud registry serve|gc|check`: the undercloud's local registry. Flags map to
 * startRegistryServer, collectGarbage and checkStore options; everything else lives in src/server.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MIN_BODY_RATE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_ROOT,
  DEFAULT_UPLOAD_MAX_AGE_MS,
  DEFAULT_UPLOAD_PURGE_AGE_MS,
  DEFAULT_UPLOAD_PURGE_INTERVAL_MS,
} from '../../server/defaults.js';

interface ServeFlags {
  listen: string;
  root: string;
  tlsCert?: string;
  tlsKey?: string;
  htpasswd?: string;
  allowAnonymousPull?: boolean;
  readOnly?: boolean;
  enableDelete?: boolean;
  quiet?: boolean;
  fsync?: boolean;
  uploadPurgeAge: string;
  uploadPurgeInterval: string;
  headersTimeout: string;
  requestTimeout: string;
  idleTimeout: string;
  minBodyRate: string;
  maxConnections: string;
}

interface CheckFlags {
  root: string;
  verifyContent?: boolean;
}

interface GcFlags {
  root: string;
  dryRun?: boolean;
  gracePeriod: string;
  uploadMaxAge: string;
}

function minutes(value: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new AppError('USAGE', `${flag} must be a number of minutes`);
  return Number(value) * 60_000;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** duration reads `168h`, `30m`, `45s`, `500ms`, or a bare number in `unit`; returns milliseconds. */
export function duration(value: string, flag: string, unit: 's' | 'h'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new AppError('USAGE', `${flag} must be a duration such as 30s, 10m or 24h (got "${value}")`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? unit]!);
}

function count(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new AppError('USAGE', `${flag} must be a whole number (got "${value}")`);
  return Number(value);
}

const showDuration = (ms: number): string =>
  ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;

/** serve runs the registry in the foreground until SIGTERM or SIGINT, then drains and exits 0. */
async function serve(flags: ServeFlags): Promise<void> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new AppError('USAGE', '--tls-cert and --tls-key go together');
  }
  const { startRegistryServer } = await import('../../server/index.js');
  const server = await startRegistryServer({
    root: flags.root,
    listen: flags.listen,
    tls: flags.tlsCert && flags.tlsKey ? { cert: flags.tlsCert, key: flags.tlsKey } : undefined,
    htpasswd: flags.htpasswd,
    allowAnonymousPull: flags.allowAnonymousPull,
    readOnly: flags.readOnly,
    enableDelete: flags.enableDelete,
    fsync: flags.fsync,
    announce: true,
    uploadPurgeAgeMs: duration(flags.uploadPurgeAge, '--upload-purge-age', 'h'),
    uploadPurgeIntervalMs: duration(flags.uploadPurgeInterval, '--upload-purge-interval', 'h'),
    headersTimeoutMs: duration(flags.headersTimeout, '--headers-timeout', 's'),
    requestTimeoutMs: duration(flags.requestTimeout, '--request-timeout', 's'),
    idleTimeoutMs: duration(flags.idleTimeout, '--idle-timeout', 's'),
    minBodyRate: count(flags.minBodyRate, '--min-body-rate'),
    maxConnections: count(flags.maxConnections, '--max-connections'),
    log: flags.quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
  });
  process.stderr.write(`overcloud registry: serving ${flags.root} on ${flags.listen} (${server.url})\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stderr.write(`overcloud registry: ${signal}, finishing in-flight requests\n`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await server.close();
}

async function gc(flags: GcFlags): Promise<void> {
  const { collectGarbage } = await import('../../server/index.js');
  const report = await collectGarbage(flags.root, {
    dryRun: flags.dryRun,
    gracePeriodMs: minutes(flags.gracePeriod, '--grace-period'),
    uploadMaxAgeMs: minutes(flags.uploadMaxAge, '--upload-max-age'),
  });
  const verb = flags.dryRun ? 'would delete' : 'deleted';
  for (const b of report.deleted) process.stdout.write(`${verb} ${b.digest} (${b.size} bytes)\n`);
  process.stdout.write(
    `${report.manifests} manifests, ${report.blobsKept} referenced blobs kept, ${report.spared} unreferenced ` +
      `blobs spared (younger than the grace period), ${verb} ${report.deleted.length} blobs ` +
      `(${report.bytesFreed} bytes), ${report.uploadsPurged} stale upload sessions ${flags.dryRun ? 'found' : 'purged'}\n`,
  );
}

/** check verifies the store's consistency; problems exit 1, each on its own line. */
async function check(flags: CheckFlags): Promise<void> {
  const { checkStore } = await import('../../server/index.js');
  const report = await checkStore(flags.root, { verifyContent: flags.verifyContent });
  for (const p of report.problems) process.stdout.write(`problem: ${p}\n`);
  process.stdout.write(
    `${report.repositories} repositories, ${report.manifests} manifests, ${report.tags} tags, ` +
      `${report.blobs} blobs: ${report.problems.length === 0 ? 'consistent' : `${report.problems.length} problems`}\n`,
  );
  if (report.problems.length > 0) {
    throw new AppError('LAYOUT_INVALID', `the store at ${flags.root} has ${report.problems.length} problems`);
  }
}

/** registerRegistry adds the `registry` subcommands. */
export function registerRegistry(registry: Command): void {
  registry
    .command('serve')
    .description('run the OCI distribution registry in the foreground (stops cleanly on SIGTERM/SIGINT)')
    .option('--listen <addr:port>', 'address and port to listen on', DEFAULT_LISTEN)
    .option('--root <dir>', 'data folder', DEFAULT_ROOT)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (needs --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--htpasswd <file>', 'require Basic auth against this htpasswd file (bcrypt, htpasswd -B)')
    .option('--allow-anonymous-pull', 'with --htpasswd: allow pulls without credentials')
    .option('--read-only', 'refuse every push and delete')
    .option('--enable-delete', 'allow DELETE of manifests, tags and blobs')
    .option('-q, --quiet', 'do not write the access log to stdout')
    .option(
      '--fsync',
      'fsync each blob before it becomes visible, and folders after renames (survives power loss; slower pushes)',
    )
    .option(
      '--upload-purge-age <duration>',
      'purge upload sessions started longer ago than this (as distribution: 168h)',
      showDuration(DEFAULT_UPLOAD_PURGE_AGE_MS),
    )
    .option(
      '--upload-purge-interval <duration>',
      'how often to purge old upload sessions; 0 disables',
      showDuration(DEFAULT_UPLOAD_PURGE_INTERVAL_MS),
    )
    .option(
      '--headers-timeout <duration>',
      'close a connection whose request headers take longer',
      showDuration(DEFAULT_HEADERS_TIMEOUT_MS),
    )
    .option(
      '--request-timeout <duration>',
      'close a connection whose whole request (with body) takes longer; 0: no limit',
      showDuration(DEFAULT_REQUEST_TIMEOUT_MS),
    )
    .option(
      '--idle-timeout <duration>',
      'close a connection silent for this long',
      showDuration(DEFAULT_IDLE_TIMEOUT_MS),
    )
    .option(
      '--min-body-rate <bytes/s>',
      'cut a request body slower than this, averaged over 30 s; 0 disables',
      String(DEFAULT_MIN_BODY_RATE),
    )
    .option(
      '--max-connections <n>',
      'refuse connections beyond this many open at once',
      String(DEFAULT_MAX_CONNECTIONS),
    )
    .exitOverride()
    .action((flags: ServeFlags) => serve(flags));
  registry
    .command('gc')
    .description('delete blobs no manifest references (safe while the server runs) and stale uploads')
    .option('--root <dir>', 'data folder', DEFAULT_ROOT)
    .option('--dry-run', 'only report what would be deleted')
    .option(
      '--grace-period <minutes>',
      'keep unreferenced blobs younger than this: pushes in progress',
      String(DEFAULT_GRACE_MS / 60_000),
    )
    .option(
      '--upload-max-age <minutes>',
      'purge upload sessions idle for longer than this',
      String(DEFAULT_UPLOAD_MAX_AGE_MS / 60_000),
    )
    .exitOverride()
    .action((flags: GcFlags) => gc(flags));
  registry
    .command('check')
    .description("check the store's consistency (tags, manifests, links, referrers, uploads, no symlinks)")
    .option('--root <dir>', 'data folder', DEFAULT_ROOT)
    .option('--verify-content', 'also hash every blob and compare with its digest (reads the whole store)')
    .exitOverride()
    .action((flags: CheckFlags) => check(flags));
}
