/**
 * @module cli/commands/registry-access
 * The registry access prepare needs (transport probe, labels, tags), from the registry client.
 * Loaded lazily: most prepare runs never talk to a registry, and the HTTP stack costs start-up time.
 */
import type { PrepareDeps } from '../../prepare/prepare-run.js';
import type { RegistrySession } from '../../registry/session.js';

export interface RegistryAccess extends PrepareDeps {
  /** close releases the shared registry session (tokens and connections), if one was opened. */
  close(): Promise<void>;
}

export interface RegistryAccessOptions {
  authfile?: string;
  insecure: string[];
  tlsVerify: boolean;
}

/** prepareDeps wires prepare to real registries, one shared session, and warnings to stderr. */
export function prepareDeps(opts: RegistryAccessOptions): RegistryAccess {
  let session: Promise<RegistrySession> | undefined;
  const shared = (): Promise<RegistrySession> => {
    session ??= import('../../registry/session.js').then(
      ({ RegistrySession }) =>
        new RegistrySession({ authfile: opts.authfile, insecure: opts.insecure, tlsVerify: opts.tlsVerify }),
    );
    return session;
  };
  return {
    probe: async (host) => (await import('../../registry/transport.js')).probeRegistryTransport(host),
    labels: {
      labels: async (imagename) => {
        const { getImageConfig } = await import('../../registry/image.js');
        const config = await getImageConfig(imagename, { session: await shared() });
        return config.config?.Labels ?? {};
      },
      tags: async (imagename) => {
        const { listTags } = await import('../../registry/image.js');
        return listTags(imagename, { session: await shared() });
      },
    },
    warn: (m) => process.stderr.write(`overcloud: warning: ${m}\n`),
    close: async () => {
      if (session) await (await session).close();
    },
  };
}
