/**
 * @module cli/commands/registry
 * `overcloud registry serve|gc`: the undercloud's local registry. Flags map to startRegistryServer
 * and collectGarbage options; everything else lives in src/server.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_LISTEN,
  DEFAULT_ROOT,
  DEFAULT_UPLOAD_MAX_AGE_MS,
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
    .option('--fsync', 'fsync each blob before it becomes visible (survives power loss; slower pushes)')
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
}
