/**
 * @module cli/commands/upload
 * `overcloud container image upload|list|show`: flags to options, one library call, output.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../../errors.js';
import type { SessionOptions } from '../../registry/index.js';

// The registry client and the upload pipeline (undici, zod, yaml, cli-progress) load only when one
// of these commands runs, so the rest of the CLI starts without them.
const registry = () => import('../../registry/index.js');

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function parseBool(v: string): boolean {
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError('expected true or false');
}

function parseParallel(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a number from 1 to 64');
  return n;
}

interface TransportFlags {
  insecure: string[];
  tlsVerify: boolean;
  authfile?: string;
}

function addTransportFlags(c: Command): Command {
  return c
    .option(
      '--insecure <host>',
      'registry to reach over plain HTTP or unverified TLS (repeatable)',
      collect,
      [],
    )
    .option(
      '--tls-verify <bool>',
      'verify TLS certificates (false: treat every registry as insecure)',
      parseBool,
      true,
    )
    .option('--authfile <path>', 'credentials file (podman auth.json or docker config.json)');
}

function sessionOptions(o: TransportFlags): SessionOptions {
  return { insecure: o.insecure, tlsVerify: o.tlsVerify, ...(o.authfile ? { authfile: o.authfile } : {}) };
}

export function registerUpload(image: Command): void {
  addTransportFlags(
    image
      .command('upload')
      .description('copy the images listed in images files to their push_destination registries')
      .requiredOption('--config-file <file>', 'images file written by prepare (repeatable)', collect, [])
      .option(
        '--parallel <n>',
        'layer transfers at once; configs and manifests go alongside (default: 4, or 8 when every destination is a local store written in place)',
        parseParallel,
      )
      .option('--platform <os/arch>', 'copy only this platform of multi-platform images')
      .option('--json', 'print a JSON summary on stdout instead of progress (with --dry-run: the plan)')
      .option(
        '--dry-run',
        'ask the sources and destinations, print what would be copied, mounted and skipped; write nothing',
      )
      .option(
        '--no-direct-store',
        'push over HTTP even to a registry that runs on this machine (by default its store is written in place)',
      ),
  ).action(
    async (
      o: TransportFlags & {
        configFile: string[];
        parallel?: number;
        platform?: string;
        json?: boolean;
        dryRun?: boolean;
        directStore: boolean;
      },
    ) => {
      const { parsePlatform } = await registry();
      const { describePlan, uploadImages, silentProgress, lineProgress } = await import(
        '../../upload/index.js'
      );
      const common = {
        ...sessionOptions(o),
        configFiles: o.configFile,
        parallel: o.parallel,
        platforms: o.platform ? [parsePlatform(o.platform)] : [],
        directStore: o.directStore,
      };
      if (o.dryRun) {
        const dry = await uploadImages({ ...common, dryRun: true });
        if (o.json) process.stdout.write(`${JSON.stringify(dry, null, 2)}\n`);
        else {
          for (const l of describePlan(dry.plan)) process.stdout.write(`${l}\n`);
          for (const [host, root] of Object.entries(dry.direct_stores))
            process.stdout.write(
              `${host} runs on this machine: its store ${root} would be written in place\n`,
            );
          for (const f of dry.unresolved) process.stdout.write(`CANNOT ${f.image}: ${f.reason}\n`);
        }
        if (dry.unresolved.length > 0) {
          throw new AppError('UPLOAD_FAILED', `${dry.unresolved.length} image(s) cannot be resolved`, {
            detail: dry.unresolved,
          });
        }
        return;
      }
      const progress = o.json
        ? silentProgress
        : process.stderr.isTTY
          ? (await import('../../upload/progress-bars.js')).barProgress()
          : lineProgress();
      const summary = await uploadImages({ ...common, progress });
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          `${summary.images_copied} copied, ${summary.images_present} already present, ${summary.images_failed} failed; ` +
            `${(summary.bytes_transferred / 1e6).toFixed(1)} MB in ${summary.blobs_transferred} blobs transferred, ` +
            `${summary.blobs_mounted} mounted, ${summary.blobs_skipped} already there; ${summary.seconds.toFixed(1)} s\n`,
        );
        for (const [host, root] of Object.entries(summary.direct_stores)) {
          process.stdout.write(
            `${host} runs on this machine: wrote its store ${root} in place (--no-direct-store: HTTP)\n`,
          );
        }
        for (const f of summary.failures) process.stdout.write(`FAILED ${f.image}: ${f.reason}\n`);
      }
      if (summary.images_failed > 0) {
        throw new AppError(
          'UPLOAD_FAILED',
          `${summary.images_failed} of ${summary.images_total} images failed`,
          {
            detail: summary.failures,
          },
        );
      }
    },
  );

  addTransportFlags(
    image
      .command('list')
      .description("list a registry's repositories and tags")
      .argument('<registry>', 'registry host[:port]')
      .option('--json', 'print JSON'),
  ).action(async (host: string, o: TransportFlags & { json?: boolean }) => {
    const { RegistrySession } = await registry();
    const session = new RegistrySession(sessionOptions(o));
    try {
      const client = session.client(host);
      const out: Record<string, string[]> = {};
      for (const repo of (await client.catalog()).sort()) out[repo] = (await client.listTags(repo)).sort();
      if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else
        for (const [repo, tags] of Object.entries(out))
          for (const t of tags) process.stdout.write(`${host}/${repo}:${t}\n`);
    } finally {
      await session.close();
    }
  });

  addTransportFlags(
    image
      .command('show')
      .description("show an image's manifest, layers, sizes and labels")
      .argument('<image>', 'image reference (registry/repo:tag or @digest)')
      .option('--platform <os/arch>', 'for a multi-platform image, show only this platform')
      .option('--json', 'print JSON'),
  ).action(async (ref: string, o: TransportFlags & { json?: boolean; platform?: string }) => {
    const { parseReference } = await import('../../oci/reference.js');
    const r = parseReference(ref, { defaultTag: 'latest' });
    const { RegistrySession, parsePlatform } = await registry();
    const { describeImageInfo, imageInfo } = await import('../../upload/inspect.js');
    const session = new RegistrySession(sessionOptions(o));
    try {
      const info = await imageInfo(session, r, o.platform ? parsePlatform(o.platform) : undefined);
      if (o.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else process.stdout.write(describeImageInfo(info));
    } finally {
      await session.close();
    }
  });
}
